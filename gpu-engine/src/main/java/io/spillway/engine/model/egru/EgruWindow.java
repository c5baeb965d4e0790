package io.spillway.engine.model.egru;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.backend.SharedRows;
import io.spillway.engine.checkpoint.ForwardPass;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.model.CellWindow;
import io.spillway.engine.model.PortableMath;
import io.spillway.engine.model.TargetOutcomes;
import io.spillway.engine.model.WindowInputs;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The multi-layer event-based GRU over one training window of a batch, as a {@link io.spillway.engine.checkpoint
 * .RecurrentModel} any checkpoint schedule can drive. Per layer {@code l}, step {@code t}, element {@code b}
 * (gate blocks update | reset | candidate, the cuDNN "reset after" form):
 * <pre>
 *   Wx  = bias_in + W_in x_t           x_t: layer 0's sparse input, else the events y_t of layer l-1
 *   Rh  = bias_rec + W_rec y_{t-1}     a row gather over the units that emitted at t-1, scaled by their values
 *   u   = sigmoid(Wx_u + Rh_u),  r = sigmoid(Wx_r + Rh_r),  q = Rh_g,  g = tanh(Wx_g + r q)
 *   c_{t-1} = c-hat_{t-1} - theta o_{t-1}                        subtractive reset
 *   c-hat_t = u c_{t-1} + (1 - u) g                               pre-reset cell state
 *   o_t = H(c-hat_t - theta),  y_t = o_t c-hat_t                 graded events; H(0) = 0
 *   z_t = W_out [f^0_t ; ... ; f^{L-1}_t] + b_out                f = c-hat (readout CELL) or y (EVENTS)
 *   loss = cross-entropy(softmax(z_t), target_t) / targets  +  lambda / targets * sum_l (mean_i o^l_t - target)^2
 * </pre>
 * The backward pass uses the pseudo-derivative {@code do/dc-hat = kappa max(0, 1 - kappa |c-hat - theta|)}
 * (docs/learner.md §2, after EvNN). Sparse work: the recurrent and inter-layer products of the forward pass
 * gather only the rows of emitting units; in the backward pass the weight gradients scatter into only those
 * rows, and the adjoint of the events ({@code W dq}, {@code W_in dp}) is formed only for units that emitted or lie
 * inside the pseudo-derivative's support, the only units where it is used. Gate arithmetic and the cell-state
 * adjoint are dense and elementwise; the readout is a dense product.
 *
 * <p>Determinism: event ids are sorted, every sum runs in a fixed order and transcendental functions are
 * {@link PortableMath}'s (plain IEEE arithmetic, the same bits on every machine), so a recomputed step is bitwise
 * equal to the first and events never shift by an ulp.
 * Losses and predictions are recorded by the backward pass, from the tapes. Parameters are read when the window
 * is made (the readout is uploaded then) and must not change while it is used. Not thread-safe, except that a
 * {@link #concurrentForward()} pass may run on a second thread.
 */
public final class EgruWindow implements CellWindow<EgruState, EgruTape> {
    /** Rows of the readout-gradient product (see {@code EgruBackward}); a thousand rows make a full-speed sgemm. */
    static final int READOUT_BLOCK_ROWS = 1024;
    private final EgruSettings cfg;
    private final ArrayBackend backend;
    private final EgruParameters params;
    private final float[] w;
    private final WindowInputs in;
    private final float[] grad;
    private final DenseMatrix readout;
    /** {@code W_rec} and {@code W_in} of layers above 0, for the event adjoints when most units need one. */
    private final DenseMatrix[] recurrentMatrices;
    private final DenseMatrix[] inputMatrices;
    private final EgruStateCodec codec;
    private final int batch;
    private final int layers;
    private final int n;
    private final int gates;
    private float[] featureBlock;
    private float[] dzBlock;
    private final float kappa;
    private final float lossScale;
    private final List<Forward> forwards = new CopyOnWriteArrayList<>();
    private final Forward forward;

    private final TargetOutcomes outcomes;
    private long backwardSteps;
    private long adjointRows;
    private long denseAdjoints;

    /**
     * @param gradient accumulator the backward pass adds into, same layout as {@code params}; zeroed by
     *     {@link #beginBackward()}
     */
    public EgruWindow(final ArrayBackend backend, final EgruParameters params, final WindowInputs inputs,
                      final float[] gradient) {
        if (gradient.length != params.size()) {
            throw new IllegalArgumentException("gradient has " + gradient.length + " entries, parameters "
                    + params.size());
        }
        this.cfg = params.settings();
        checkInputs(inputs, cfg);
        this.backend = backend;
        this.params = params;
        this.w = params.values();
        this.in = inputs;
        this.grad = gradient;
        this.batch = inputs.batch();
        this.layers = cfg.layers();
        this.n = cfg.hiddenSize();
        this.gates = cfg.gates();
        this.kappa = cfg.pseudoDerivativeScale();
        this.lossScale = inputs.targetCount() == 0 ? 0f : 1f / inputs.targetCount();
        this.readout = backend.upload(w, params.readoutW(), cfg.vocabularySize(), layers * n);
        this.recurrentMatrices = new DenseMatrix[layers];
        this.inputMatrices = new DenseMatrix[layers];
        for (int l = 0; l < layers; l++) {
            recurrentMatrices[l] = backend.upload(w, params.wRec(l), n, gates);
            if (l > 0) {
                inputMatrices[l] = backend.upload(w, params.wIn(l), n, gates);
            }
        }
        this.codec = new EgruStateCodec(batch, layers, n);
        this.forward = new Forward();
        this.outcomes = new TargetOutcomes(batch, inputs.steps());
    }

    private static void checkInputs(final WindowInputs inputs, final EgruSettings cfg) {
        for (int t = 0; t < inputs.steps(); t++) {
            for (int b = 0; b < inputs.batch(); b++) {
                if (!inputs.active(t, b)) {
                    continue;
                }
                for (final int r : inputs.rows(t, b)) {
                    if (r < 0 || r >= cfg.inputDimension()) {
                        throw new IllegalArgumentException("input row " + r + " at step " + t + ", element " + b
                                + " outside [0, " + cfg.inputDimension() + ")");
                    }
                }
                if (inputs.target(t, b) >= cfg.vocabularySize()) {
                    throw new IllegalArgumentException("target " + inputs.target(t, b) + " at step " + t
                            + ", element " + b + " outside [0, " + cfg.vocabularySize() + ")");
                }
            }
        }
    }

    @Override
    public WindowInputs inputs() {
        return in;
    }

    @Override
    public EgruState step(final EgruState state, final int t, final boolean record) {
        return forward.advance(state, t, null);
    }

    @Override
    public Taped<EgruState, EgruTape> stepWithTape(final EgruState state, final int t) {
        return forward.stepWithTape(state, t);
    }

    /**
     * A forward pass with its own scratch and counters: it reads only the weights and inputs, which do not change
     * during a window, so it may run on another thread while this window's backward pass runs. Same operations as
     * {@link #step}, so bitwise-equal states.
     */
    @Override
    public Optional<ForwardPass<EgruState, EgruTape>> concurrentForward() {
        return Optional.of(new Forward());
    }

    /** The pseudo-derivative at {@code x = c-hat - theta}: a triangle of height and inverse half-width kappa. */
    static float pseudoDerivative(final float kappa, final float x) {
        return kappa * Math.max(0f, 1f - kappa * Math.abs(x));
    }

    /** Rows per readout-gradient product: about {@link #READOUT_BLOCK_ROWS}, whole steps, at most the window. */
    private int readoutBlockRows() {
        return Math.max(1, Math.min(READOUT_BLOCK_ROWS / batch, in.steps())) * batch;
    }

    // the blocks are reused by every backward pass of this window (one runs at a time)
    private float[] readoutFeatureBlock() {
        if (featureBlock == null) {
            featureBlock = new float[readoutBlockRows() * layers * n];
        }
        return featureBlock;
    }

    private float[] readoutDzBlock() {
        if (dzBlock == null) {
            dzBlock = new float[readoutBlockRows() * cfg.vocabularySize()];
        }
        return dzBlock;
    }

    /** Forward steps with their scratch. */
    private final class Forward implements ForwardPass<EgruState, EgruTape> {
        /** Input gate terms ({@code bias_in + W_in x}) of every element at this layer, {@code batch x gates}. */
        private final float[] input = new float[batch * gates];
        /** Recurrent gate inputs of every element of the batch at this layer, {@code batch x gates}. */
        private final float[] recurrent = new float[batch * gates];
        /** u and r of every element ({@code batch x 2 hidden}), then g ({@code batch x hidden}): gate math in bulk. */
        private final float[] updateReset = new float[batch * 2 * n];
        private final float[] candidate = new float[batch * n];
        private final PortableMath.Scratch scratch = new PortableMath.Scratch(batch * 2 * n);
        private final SharedRows previousEvents = new SharedRows(n, batch * n / 4);
        private final float[] resetBy = new float[n];
        private final float[] values = new float[n];
        private final int[] ids = new int[n];
        // written by the thread that runs this pass, read once the window is done
        private volatile long forwardSteps;
        private volatile long eventsEmitted;
        private volatile long unitSteps;

        Forward() {
            forwards.add(this);
        }

        @Override
        public EgruState step(final EgruState state, final int t, final boolean record) {
            return advance(state, t, null);
        }

        @Override
        public Taped<EgruState, EgruTape> stepWithTape(final EgruState state, final int t) {
            final int size = layers * batch * n;
            final float[][] tape = {new float[size], new float[size], new float[size], new float[size]};
            final EgruState next = advance(state, t, tape);
            return new Taped<>(next, new EgruTape(t, state, next, tape[0], tape[1], tape[2], tape[3]));
        }

        /** One step; with {@code tape} non-null also keeps u, r, g, q there (the same operations either way). */
        EgruState advance(final EgruState s, final int t, final float[][] tape) {
            if (s.batch() != batch || s.layers() != layers || s.hidden() != n) {
                throw new IllegalArgumentException("state shape " + s + " does not fit this window");
            }
            if (t < 0 || t >= in.steps()) {
                throw new IndexOutOfBoundsException("step " + t + " outside window of " + in.steps());
            }
            forwardSteps = forwardSteps + 1; // single writer
            final float[] cPrev = s.rawCell();
            final int[][] ePrev = s.rawEvents();
            final float[] c = new float[cPrev.length];
            final int[][] events = new int[ePrev.length][];
            long emitted = 0;
            long units = 0;
            for (int l = 0; l < layers; l++) {
                // the recurrent inputs of the whole batch first, row by row of W_rec: a unit that emitted in
                // several elements has its row read once (the same sums as element by element)
                previousEvents.clear();
                for (int b = 0; b < batch; b++) {
                    if (in.active(t, b)) {
                        final int[] prev = ePrev[l * batch + b];
                        previousEvents.count(prev, prev.length);
                        System.arraycopy(w, params.biasRec(l), recurrent, b * gates, gates);
                    }
                }
                previousEvents.layout();
                for (int b = 0; b < batch; b++) {
                    if (in.active(t, b)) {
                        final int p = l * batch + b;
                        previousEvents.add(b, ePrev[p], ePrev[p].length, cPrev, p * n);
                    }
                }
                backend.gatherShared(w, params.wRec(l), gates, previousEvents, recurrent, gates);
                for (int b = 0; b < batch; b++) {
                    if (!in.active(t, b)) {
                        continue;
                    }
                    final int p = l * batch + b;
                    System.arraycopy(w, params.biasIn(l), input, b * gates, gates);
                    if (l == 0) {
                        final int[] rows = in.rows(t, b);
                        backend.gatherRows(w, params.wIn(0), gates, rows, in.scales(t, b), 0, rows.length, input,
                                b * gates);
                    } else {
                        final int[] below = events[p - batch];
                        eventValues(c, (p - batch) * n, below, values);
                        backend.gatherRows(w, params.wIn(l), gates, below, values, 0, below.length, input,
                                b * gates);
                    }
                }
                gates();
                for (int b = 0; b < batch; b++) {
                    final int p = l * batch + b;
                    if (!in.active(t, b)) {
                        System.arraycopy(cPrev, p * n, c, p * n, n);
                        events[p] = ePrev[p];
                        continue;
                    }
                    final int count = update(cPrev, c, p, l, b, ePrev[p], tape);
                    events[p] = Arrays.copyOf(ids, count);
                    emitted += count;
                    units += n;
                }
            }
            eventsEmitted = eventsEmitted + emitted;
            unitSteps = unitSteps + units;
            return new EgruState(batch, layers, n, c, events);
        }

        /**
         * u, r and g of every element of the batch from {@link #input} and {@link #recurrent}, into
         * {@link #updateReset} and {@link #candidate}: the transcendental functions over whole arrays, where they
         * vectorise. Inactive elements are computed too, from stale scratch, and never read.
         */
        private void gates() {
            for (int b = 0; b < batch; b++) {
                final int o = b * gates;
                final int ur = b * 2 * n;
                for (int i = 0; i < 2 * n; i++) {
                    updateReset[ur + i] = input[o + i] + recurrent[o + i];
                }
            }
            PortableMath.sigmoidInPlace(updateReset, 0, updateReset.length, scratch);
            for (int b = 0; b < batch; b++) {
                final int o = b * gates + 2 * n;
                final int r = b * 2 * n + n;
                final int g = b * n;
                for (int i = 0; i < n; i++) {
                    candidate[g + i] = input[o + i] + updateReset[r + i] * recurrent[o + i];
                }
            }
            PortableMath.tanhInPlace(candidate, 0, candidate.length, scratch);
        }

        /** The new cell state of population {@code p} (element {@code b}); fills {@link #ids}, returns their count. */
        private int update(final float[] cPrev, final float[] c, final int p, final int l, final int b,
                           final int[] prev, final float[][] tape) {
            final int th = params.threshold(l);
            resetAmounts(prev, th, resetBy);
            final int ur = b * 2 * n;
            final int g0 = b * n;
            final int q0 = b * gates + 2 * n;
            int count = 0;
            for (int i = 0; i < n; i++) {
                final float u = updateReset[ur + i];
                final float g = candidate[g0 + i];
                final float before = cPrev[p * n + i] - resetBy[i];
                final float chat = u * before + (1f - u) * g;
                c[p * n + i] = chat;
                if (chat > w[th + i]) {
                    ids[count++] = i;
                }
            }
            if (tape != null) {
                System.arraycopy(updateReset, ur, tape[0], p * n, n);
                System.arraycopy(updateReset, ur + n, tape[1], p * n, n);
                System.arraycopy(candidate, g0, tape[2], p * n, n);
                System.arraycopy(recurrent, q0, tape[3], p * n, n);
            }
            return count;
        }
    }

    /** {@code out[k] = c[offset + ids[k]]}: the graded event values. */
    private static void eventValues(final float[] c, final int offset, final int[] ids, final float[] out) {
        for (int k = 0; k < ids.length; k++) {
            out[k] = c[offset + ids[k]];
        }
    }

    /** {@code theta} at the units that emitted, 0 elsewhere: what the subtractive reset takes off. */
    private void resetAmounts(final int[] emitted, final int thresholdOffset, final float[] out) {
        Arrays.fill(out, 0f);
        for (final int i : emitted) {
            out[i] = w[thresholdOffset + i];
        }
    }

    /** Fills {@code feature} (batch x layers * hidden) with what the readout reads of {@code s}. */
    private void readoutFeatures(final EgruState s, final float[] feature) {
        final int features = layers * n;
        final float[] c = s.rawCell();
        final int[][] events = s.rawEvents();
        Arrays.fill(feature, 0f);
        for (int b = 0; b < batch; b++) {
            for (int l = 0; l < layers; l++) {
                final int p = l * batch + b;
                final int f = b * features + l * n;
                if (cfg.readout() == EgruSettings.Readout.CELL) {
                    System.arraycopy(c, p * n, feature, f, n);
                } else {
                    for (final int i : events[p]) {
                        feature[f + i] = c[p * n + i];
                    }
                }
            }
        }
    }

    /**
     * Adds the readout bias to the logits of row {@code o}, fills {@code exps[k]} with {@code e^(z_k - max z)} and
     * returns the max; the arg-max goes to {@code arg[0]}. Training and inference both run this (and sum the
     * exponentials in class order), so they give one probability bitwise.
     */
    private double exponentials(final float[] logits, final int o, final int[] arg, final float[] exps,
                                final PortableMath.Scratch scratch) {
        final int classes = cfg.vocabularySize();
        double max = Double.NEGATIVE_INFINITY;
        int best = 0;
        for (int k = 0; k < classes; k++) {
            logits[o + k] += w[params.readoutBias() + k];
            if (logits[o + k] > max) {
                max = logits[o + k];
                best = k;
            }
        }
        final float top = (float) max;
        for (int k = 0; k < classes; k++) {
            exps[k] = logits[o + k] - top;
        }
        PortableMath.expInPlace(exps, 0, classes, scratch);
        arg[0] = best;
        return max;
    }

    @Override
    public void distribution(final EgruState state, final float[] probabilities, final int[] argMax) {
        if (state.batch() != batch || state.layers() != layers || state.hidden() != n) {
            throw new IllegalArgumentException("state shape " + state + " does not fit this window");
        }
        final int classes = cfg.vocabularySize();
        final float[] feature = new float[batch * layers * n];
        final float[] logits = new float[batch * classes];
        readoutFeatures(state, feature);
        backend.multiplyTransposed(readout, feature, batch, logits, false);
        final int[] arg = new int[1];
        final float[] exps = new float[classes];
        final PortableMath.Scratch scratch = new PortableMath.Scratch(classes);
        for (int b = 0; b < batch; b++) {
            final int o = b * classes;
            exponentials(logits, o, arg, exps, scratch);
            argMax[b] = arg[0];
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += exps[k];
            }
            for (int k = 0; k < classes; k++) {
                probabilities[o + k] = (float) ((double) exps[k] / sum);
            }
        }
    }

    @Override
    public Backward<EgruTape> beginBackward() {
        Arrays.fill(grad, 0f);
        outcomes.reset();
        return new EgruBackward();
    }

    @Override
    public TargetOutcomes outcomes() {
        return outcomes;
    }

    @Override
    public StateCodec<EgruState> codec() {
        return codec;
    }

    @Override
    public long stateBytes(final EgruState state) {
        return state.bytes();
    }

    @Override
    public long tapeBytes(final EgruTape tape) {
        return tape.bytes();
    }

    @Override
    public long forwardSteps() {
        return forwards.stream().mapToLong(f -> f.forwardSteps).sum();
    }

    @Override
    public long backwardSteps() {
        return backwardSteps;
    }

    /** Event ids never overflow: the id scratch holds a whole layer. */
    @Override
    public long spikeOverflows() {
        return 0;
    }

    @Override
    public long spikesEmitted() {
        return forwards.stream().mapToLong(f -> f.eventsEmitted).sum();
    }

    @Override
    public long neuronSteps() {
        return forwards.stream().mapToLong(f -> f.unitSteps).sum();
    }

    /**
     * Rows of event adjoints formed row by row ({@code W_rec dq}, {@code W_in dp}): units that emitted or lie in the
     * pseudo-derivative's support.
     */
    public long adjointRows() {
        return adjointRows;
    }

    /**
     * Event adjoints of a whole layer and step formed as one dense product instead, because enough of
     * the units needed one (the others are multiplied by zero: the same gradient, a faster product).
     */
    public long denseAdjoints() {
        return denseAdjoints;
    }

    @Override
    public void release() {
        readout.close();
        for (int l = 0; l < layers; l++) {
            recurrentMatrices[l].close();
            if (inputMatrices[l] != null) {
                inputMatrices[l].close();
            }
        }
    }

    /**
     * Adjoints carried from step t+1 to t: {@code dL/dc_t} (post-reset cell state, dense) per population, and per
     * layer the recurrent gate adjoint {@code dq_{t+1}}, from which {@code dL/dy_t = W_rec dq_{t+1}} is formed at
     * step t for the units where it is used.
     */
    private final class EgruBackward implements Backward<EgruTape> {
        private final int classes = cfg.vocabularySize();
        private final int features = layers * n;
        private final float[] carryC = new float[layers * batch * n];
        private final float[][] pendingDq = new float[layers][batch * gates];
        private final boolean[] hasPending = new boolean[layers];
        private final float[] feature = new float[batch * features];
        private final float[] logits = new float[batch * classes];
        private final float[] dz = new float[batch * classes];
        /** e^(z_k - max z) of one element's logits. */
        private final float[] exps = new float[classes];
        private final PortableMath.Scratch scratch = new PortableMath.Scratch(classes);
        private final int[] argOut = new int[1];
        private final float[] dFeature = new float[batch * features];
        private final float[] dy = new float[batch * n];
        private final float[] below = new float[batch * n];
        private final float[] dp = new float[gates];
        private final float[] dq = new float[gates];
        private final float[] dpAll = new float[batch * gates];
        private final int[][] candidates = new int[batch][n];
        private final int[] candidateCount = new int[batch];
        private final float[] resetBy = new float[n];
        private final float[] values = new float[n];
        private final boolean[] emitted = new boolean[n];
        private final SharedRows sharedUses = new SharedRows(n, batch * n / 4);
        private int expected = in.steps() - 1;
        /**
         * The readout's weight gradient is one product per block of rows (features and logit adjoints of the
         * elements with a target, in backward order) rather than one per step: a single sgemm instead of
         * hundreds of small outer products. Block boundaries depend on the window's shape and targets only, so
         * every checkpoint schedule sums the same way.
         */
        private final int blockRows = readoutBlockRows();
        private final float[] featureBlock = readoutFeatureBlock();
        private final float[] dzBlock = readoutDzBlock();
        private int blockUsed;

        @Override
        public void step(final EgruTape tape) {
            final int t = tape.step;
            if (t != expected) {
                throw new IllegalStateException("backward expected step " + expected + ", got " + t);
            }
            expected--;
            backwardSteps++;
            readoutAndLoss(tape, t);
            Arrays.fill(below, 0f);
            for (int l = layers - 1; l >= 0; l--) {
                layer(tape, t, l);
            }
        }

        private void readoutAndLoss(final EgruTape tape, final int t) {
            readoutFeatures(tape.next, feature);
            backend.multiplyTransposed(readout, feature, batch, logits, false);
            Arrays.fill(dz, 0f);
            boolean any = false;
            for (int b = 0; b < batch; b++) {
                final int target = in.target(t, b);
                if (target < 0) {
                    continue;
                }
                any = true;
                final int o = b * classes;
                // one exp per class: the softmax is e_k / sum
                final double max = exponentials(logits, o, argOut, exps, scratch);
                final int arg = argOut[0];
                double sum = 0;
                for (int k = 0; k < classes; k++) {
                    sum += exps[k];
                }
                final double logSum = max + StrictMath.log(sum);
                final double loss = logSum - logits[o + target];
                outcomes.record(t, b, arg, (float) ((double) exps[arg] / sum), loss, target);
                final boolean keep = outcomes.keepsDistributions();
                for (int k = 0; k < classes; k++) {
                    final double pk = (double) exps[k] / sum;
                    if (keep) {
                        outcomes.recordProbability(t, b, k, pk);
                    }
                    dz[o + k] = (float) ((pk - (k == target ? 1.0 : 0.0)) * lossScale);
                    grad[params.readoutBias() + k] += dz[o + k];
                }
            }
            if (any) {
                if (blockUsed + batch > blockRows) {
                    flushReadoutGradient();
                }
                for (int b = 0; b < batch; b++) {
                    if (in.target(t, b) >= 0) {
                        System.arraycopy(feature, b * features, featureBlock, blockUsed * features, features);
                        System.arraycopy(dz, b * classes, dzBlock, blockUsed * classes, classes);
                        blockUsed++;
                    }
                }
                backend.multiply(readout, dz, batch, dFeature, false);
            } else {
                Arrays.fill(dFeature, 0f);
            }
            if (t == 0) {
                flushReadoutGradient();
            }
        }

        /** Adds the rows gathered so far to the readout's weight gradient; unused rows are zero (fixed shapes). */
        private void flushReadoutGradient() {
            if (blockUsed == 0) {
                return;
            }
            Arrays.fill(featureBlock, blockUsed * features, featureBlock.length, 0f);
            Arrays.fill(dzBlock, blockUsed * classes, dzBlock.length, 0f);
            backend.accumulateOuterBlock(grad, params.readoutW(), classes, features, dzBlock, featureBlock, blockRows);
            blockUsed = 0;
        }

        private void layer(final EgruTape tape, final int t, final int l) {
            final float[] cNext = tape.next.rawCell();
            final float[] cPrev = tape.previous.rawCell();
            final int th = params.threshold(l);
            final boolean cellReadout = cfg.readout() == EgruSettings.Readout.CELL;
            final float lambda = cfg.activityRegularization();
            // dL/dy_t through the recurrence, W_rec dq_{t+1}, where it is used
            if (hasPending[l]) {
                eventAdjoint(recurrentMatrices[l], params.wRec(l), pendingDq[l], dy, cNext, tape.next, t, l);
            } else {
                Arrays.fill(dy, 0f);
            }
            for (int b = 0; b < batch; b++) {
                final int o = b * n;
                final int pg = b * gates;
                if (!in.active(t, b)) {
                    // no step happened: the adjoints pass through, nothing is pending from this step
                    Arrays.fill(pendingDq[l], pg, pg + gates, 0f);
                    Arrays.fill(dpAll, pg, pg + gates, 0f);
                    continue;
                }
                final int p = l * batch + b;
                final int[] events = tape.next.rawEvents()[p];
                final int[] prev = tape.previous.rawEvents()[p];
                Arrays.fill(emitted, false);
                for (final int i : events) {
                    emitted[i] = true;
                }
                resetAmounts(prev, th, resetBy);
                final float dActivity = lambda == 0f ? 0f
                        : 2f * lambda * lossScale * ((float) events.length / n - cfg.activityTarget()) / n;
                final int f = b * features + l * n;
                for (int i = 0; i < n; i++) {
                    final int k = p * n + i;
                    final float chat = cNext[k];
                    final float theta = w[th + i];
                    final float dyi = dy[o + i] + below[o + i] + (cellReadout ? 0f : dFeature[f + i]);
                    final float dc = carryC[k];
                    final float phi = pseudoDerivative(kappa, chat - theta);
                    final float dOut = dActivity + chat * dyi - theta * dc;
                    if (cfg.learnThresholds()) {
                        grad[th + i] += -(phi * dOut) - (emitted[i] ? dc : 0f);
                    }
                    final float dChat = (emitted[i] ? dyi : 0f) + phi * dOut + dc + (cellReadout ? dFeature[f + i] : 0f);
                    final float u = tape.update[k];
                    final float r = tape.reset[k];
                    final float g = tape.candidate[k];
                    final float q = tape.recurrentCandidate[k];
                    final float before = cPrev[k] - resetBy[i];
                    carryC[k] = u * dChat;
                    final float dg = (1f - u) * dChat;
                    final float du = (before - g) * dChat;
                    final float dag = (1f - g * g) * dg;
                    final float dr = dag * q;
                    final float dar = r * (1f - r) * dr;
                    final float dau = u * (1f - u) * du;
                    dp[i] = dau;
                    dp[n + i] = dar;
                    dp[2 * n + i] = dag;
                    dq[i] = dau;
                    dq[n + i] = dar;
                    dq[2 * n + i] = r * dag;
                }
                if (t == 0 && cfg.learnThresholds()) {
                    // the window's initial state was reset with theta too: c_{-1} = c-hat_{-1} - theta o_{-1}
                    for (final int i : prev) {
                        grad[th + i] -= carryC[p * n + i];
                    }
                }
                final int bi = params.biasIn(l);
                final int br = params.biasRec(l);
                for (int j = 0; j < gates; j++) {
                    grad[bi + j] += dp[j];
                    grad[br + j] += dq[j];
                }
                if (l == 0) {
                    final int[] rows = in.rows(t, b);
                    backend.scatterAddRows(grad, params.wIn(0), gates, rows, in.scales(t, b), 0, rows.length, dp, 0);
                } else {
                    final int pb = p - batch;
                    final int[] src = tape.next.rawEvents()[pb];
                    eventValues(cNext, pb * n, src, values);
                    backend.scatterAddRows(grad, params.wIn(l), gates, src, values, 0, src.length, dp, 0);
                }
                System.arraycopy(dp, 0, dpAll, pg, gates);
                System.arraycopy(dq, 0, pendingDq[l], pg, gates);
            }
            // W_rec's gradient for the whole batch, row by row (each row's elements in increasing order, as the
            // element-by-element scatter added them)
            sharedUses.clear();
            for (int b = 0; b < batch; b++) {
                if (in.active(t, b)) {
                    final int[] prev = tape.previous.rawEvents()[l * batch + b];
                    sharedUses.count(prev, prev.length);
                }
            }
            sharedUses.layout();
            for (int b = 0; b < batch; b++) {
                if (in.active(t, b)) {
                    final int p = l * batch + b;
                    final int[] prev = tape.previous.rawEvents()[p];
                    sharedUses.add(b, prev, prev.length, cPrev, p * n);
                }
            }
            backend.scatterShared(grad, params.wRec(l), gates, sharedUses, pendingDq[l], gates);
            hasPending[l] = true;
            if (l > 0) {
                // dL/dy_t of layer l-1 through W_in of layer l, where layer l-1 uses it (read above, for every b)
                eventAdjoint(inputMatrices[l], params.wIn(l), dpAll, below, cNext, tape.next, t, l - 1);
            }
        }

        /**
         * {@code out[b] = m x[b]} for the units of {@code layer} at step {@code t} whose event adjoint is used, 0
         * elsewhere: row by row over those units, or, when they are enough of the active units (a quarter, fewer
         * where the backend's dense product is much faster), one dense product (the other rows meet a zero
         * factor). The choice depends on the tape and the shapes only, so a recomputed window makes it the same way.
         */
        private void eventAdjoint(final DenseMatrix m, final int wOffset, final float[] x, final float[] out,
                                  final float[] c, final EgruState next, final int t, final int layer) {
            int total = 0;
            int active = 0;
            for (int b = 0; b < batch; b++) {
                candidateCount[b] = 0;
                if (in.active(t, b)) {
                    final int p = layer * batch + b;
                    candidateCount[b] = candidates(c, p, params.threshold(layer), next.rawEvents()[p], candidates[b]);
                    total += candidateCount[b];
                    active += n;
                }
            }
            // dense from a quarter of the rows, or sooner where the backend's dense product is much faster
            final long factor = Math.max(4, backend.denseSpeedup(batch, m.rows(), m.cols()));
            if (factor * total >= active && total > 0) {
                denseAdjoints++;
                backend.multiplyTransposed(m, x, batch, out, false);
                return;
            }
            Arrays.fill(out, 0f);
            adjointRows += total;
            sharedUses.clear();
            for (int b = 0; b < batch; b++) {
                sharedUses.count(candidates[b], candidateCount[b]);
            }
            sharedUses.layout();
            for (int b = 0; b < batch; b++) {
                sharedUses.add(b, candidates[b], candidateCount[b], null, 0);
            }
            backend.dotShared(w, wOffset, gates, sharedUses, x, gates, out, n);
        }

        /**
         * Lists, in increasing order, the units of population {@code p} at this step whose event adjoint is used:
         * those that emitted and those inside the pseudo-derivative's support. Returns how many.
         */
        private int candidates(final float[] c, final int p, final int thresholdOffset, final int[] events,
                               final int[] out) {
            int count = 0;
            int e = 0;
            for (int i = 0; i < n; i++) {
                final boolean fired = e < events.length && events[e] == i;
                if (fired) {
                    e++;
                }
                if (fired || pseudoDerivative(kappa, c[p * n + i] - w[thresholdOffset + i]) != 0f) {
                    out[count++] = i;
                }
            }
            return count;
        }
    }
}
