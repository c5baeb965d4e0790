package io.spillway.engine.model.lif;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.checkpoint.ForwardPass;
import io.spillway.engine.checkpoint.RecurrentModel;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.model.CellWindow;
import io.spillway.engine.model.TargetOutcomes;
import io.spillway.engine.model.WindowInputs;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The multi-layer LIF spiking RNN over one training window of a batch, as a {@link RecurrentModel} that any
 * checkpoint schedule can drive. Per layer {@code l}, step {@code t}, element {@code b}
 * (docs/spec-double-checkpointing.md §4.1):
 * <pre>
 *   A_t   = bias + W_in x_t + W_rec S_{t-1}        x_t: layer 0's sparse input, else S_t of layer l-1
 *   V_t   = alpha * V_{t-1} * (1 - S_{t-1}) + (1 - alpha) * g * A_t     hard reset; the mask is stop-gradient
 *   S_t   = H(V_t - theta - gamma a_t)              surrogate dS/dV = (beta |u - theta| + 1)^-2 [* H(u - theta2)],
 *                                                   u = V_t - gamma a_t
 *   a_t   = rho a_{t-1} + S_{t-1}                   adaptive threshold, only when gamma > 0
 *   z_t   = W_out V_t(top layer) + b_out            linear readout of the top layer's membrane
 *   loss  = cross-entropy(softmax(z_t), target_t)   weighted 1 / (targets in the window)
 * </pre>
 * Layer {@code l} reads layer {@code l-1}'s spikes of the same step (no inter-layer delay), so the readout at
 * {@code t} already sees event {@code t}; the layers are updated bottom-up within a step.
 *
 * <p>Sparse work: input currents gather only the weight rows of active inputs and of neurons that spiked;
 * the weight gradients scatter-add only into those rows. Dense work: the readout and the adjoint of the spike
 * inputs ({@code W dA}), through the backend's dense products.
 *
 * <p>Losses and predictions are computed in {@link Backward#step}, from the tape, which every schedule visits
 * exactly once per step; {@link #step}'s {@code record} flag is therefore not needed and only counts passes.
 * Parameters are read when the window is made (dense matrices are uploaded then) and must not change while
 * it is used. Not thread-safe, except that a {@link #concurrentForward()} pass may run on a second thread.
 */
public final class LifWindow implements CellWindow<LifState, LifTape> {
    private final LifSettings cfg;
    private final ArrayBackend backend;
    private final LifKernels lif;
    private final float[] w;
    private final LifParameters params;
    private final WindowInputs in;
    private final float[] grad;
    private final DenseMatrix readout;
    private final DenseMatrix[] inputMatrices;
    private final DenseMatrix[] recurrentMatrices;
    private final LifStateCodec codec;
    private final int batch;
    private final int layers;
    private final int n;
    private final float lossScale;
    /** The trainer thread's forward pass, then any made by {@link #concurrentForward()}. */
    private final List<Forward> forwards = new CopyOnWriteArrayList<>();
    private final Forward forward;

    private final TargetOutcomes outcomes;
    private long backwardSteps;
    private long sparseAdjoints;

    /**
     * @param gradient accumulator the backward pass adds into, same layout as {@code params}; zeroed by
     *     {@link #beginBackward()}
     */
    public LifWindow(final ArrayBackend backend, final LifParameters params, final WindowInputs inputs,
                     final float[] gradient) {
        if (gradient.length != params.size()) {
            throw new IllegalArgumentException("gradient has " + gradient.length + " entries, parameters " + params.size());
        }
        this.cfg = params.settings();
        checkInputs(inputs, cfg);
        this.backend = backend;
        this.lif = LifKernels.of(backend);
        this.params = params;
        this.w = params.values();
        this.in = inputs;
        this.grad = gradient;
        this.batch = inputs.batch();
        this.layers = cfg.layers();
        this.n = cfg.hiddenSize();
        this.lossScale = inputs.targetCount() == 0 ? 0f : 1f / inputs.targetCount();
        this.readout = backend.upload(w, params.readoutW(), cfg.vocabularySize(), n);
        this.inputMatrices = new DenseMatrix[layers];
        this.recurrentMatrices = new DenseMatrix[layers];
        for (int l = 0; l < layers; l++) {
            if (l > 0) {
                inputMatrices[l] = backend.upload(w, params.wIn(l), n, n);
            }
            recurrentMatrices[l] = backend.upload(w, params.wRec(l), n, n);
        }
        this.codec = new LifStateCodec(batch, layers, n, cfg.adaptive());
        this.forward = new Forward();
        this.outcomes = new TargetOutcomes(batch, inputs.steps());
    }

    @Override
    public WindowInputs inputs() {
        return in;
    }

    /** Rows outside layer 0's input matrix would read other tensors of the flat vector: refuse them. */
    private static void checkInputs(final WindowInputs inputs, final LifSettings cfg) {
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
                final int target = inputs.target(t, b);
                if (target >= cfg.vocabularySize()) {
                    throw new IllegalArgumentException("target " + target + " at step " + t + ", element " + b
                            + " outside [0, " + cfg.vocabularySize() + ")");
                }
            }
        }
    }

    @Override
    public LifState step(final LifState state, final int t, final boolean record) {
        return forward.step(state, t, record);
    }

    @Override
    public Taped<LifState, LifTape> stepWithTape(final LifState state, final int t) {
        return forward.stepWithTape(state, t);
    }

    /**
     * A forward pass with its own scratch buffers and counters: it reads the weights and inputs, which do not
     * change during a window, and writes only the states it returns, so it may run on another thread while
     * this window's backward pass runs. It executes the same operations as {@link #step}, so its states are
     * bitwise equal.
     */
    @Override
    public Optional<ForwardPass<LifState, LifTape>> concurrentForward() {
        return Optional.of(new Forward());
    }

    /** Forward steps with their scratch: the current, the adaptive threshold shift and the spike-id buffer. */
    private final class Forward implements ForwardPass<LifState, LifTape> {
        private final float[] current = new float[n];
        private final float[] shiftScratch = new float[n];
        private int[] spikeBuffer = new int[cfg.spikeBufferLength()];
        // written by the thread that runs this pass, read once the window is done
        private volatile long forwardSteps;
        private volatile long spikeOverflows;
        private volatile long spikesEmitted;
        private volatile long neuronSteps;

        Forward() {
            forwards.add(this);
        }

        @Override
        public LifState step(final LifState state, final int t, final boolean record) {
            return advance(state, t);
        }

        @Override
        public Taped<LifState, LifTape> stepWithTape(final LifState state, final int t) {
            final LifState next = advance(state, t);
            return new Taped<>(next, new LifTape(t, next.rawV(), next.rawA(), state.rawSpikes(), next.rawSpikes()));
        }

        private LifState advance(final LifState s, final int t) {
            if (s.batch() != batch || s.layers() != layers || s.hidden() != n || s.adaptive() != cfg.adaptive()) {
                throw new IllegalArgumentException("state shape " + s + " does not fit this window");
            }
            if (t < 0 || t >= in.steps()) {
                throw new IndexOutOfBoundsException("step " + t + " outside window of " + in.steps());
            }
            forwardSteps = forwardSteps + 1; // single writer
            final float[] vPrev = s.rawV();
            final int[][] sPrev = s.rawSpikes();
            final float[] v = new float[vPrev.length];
            final boolean adaptive = cfg.adaptive();
            final float[] aPrev = s.rawA();
            final float[] a = adaptive ? new float[aPrev.length] : aPrev;
            final int[][] spikes = new int[sPrev.length][];
            for (int b = 0; b < batch; b++) {
                if (!in.active(t, b)) {
                    for (int l = 0; l < layers; l++) {
                        final int p = l * batch + b;
                        System.arraycopy(vPrev, p * n, v, p * n, n);
                        if (adaptive) {
                            System.arraycopy(aPrev, p * n, a, p * n, n);
                        }
                        spikes[p] = sPrev[p];
                    }
                    continue;
                }
                for (int l = 0; l < layers; l++) {
                    final int p = l * batch + b;
                    System.arraycopy(w, params.bias(l), current, 0, n);
                    if (l == 0) {
                        final int[] rows = in.rows(t, b);
                        backend.gatherRows(w, params.wIn(0), n, rows, in.scales(t, b), 0, rows.length, current, 0);
                    } else {
                        final int[] below = spikes[p - batch];
                        backend.gatherRows(w, params.wIn(l), n, below, null, 0, below.length, current, 0);
                    }
                    final int[] prev = sPrev[p];
                    backend.gatherRows(w, params.wRec(l), n, prev, null, 0, prev.length, current, 0);
                    final float[] shift = adaptive ? thresholdShift(aPrev, a, p, prev) : null;
                    int count = lif.integrateAndFire(vPrev, p * n, prev, prev.length, current, 0, cfg.alpha(),
                            cfg.drive(), v, p * n, n, cfg.theta(), shift, 0, spikeBuffer);
                    if (count > spikeBuffer.length) {
                        // more spikes than planned: grow (counted) and redo the same operations; nothing is dropped
                        spikeOverflows = spikeOverflows + 1;
                        spikeBuffer = new int[Math.min(n, Math.max(count, 2 * spikeBuffer.length))];
                        count = lif.integrateAndFire(vPrev, p * n, prev, prev.length, current, 0, cfg.alpha(),
                                cfg.drive(), v, p * n, n, cfg.theta(), shift, 0, spikeBuffer);
                    }
                    spikes[p] = Arrays.copyOf(spikeBuffer, count);
                    spikesEmitted = spikesEmitted + count;
                    neuronSteps = neuronSteps + n;
                }
            }
            return new LifState(batch, layers, n, v, a, spikes);
        }

        /** {@code a_t = rho a_{t-1} + S_{t-1}} for population {@code p}; returns {@code gamma a_t} in a scratch array. */
        private float[] thresholdShift(final float[] aPrev, final float[] a, final int p, final int[] prevSpikes) {
            final float rho = cfg.adaptationDecay();
            for (int i = 0; i < n; i++) {
                a[p * n + i] = rho * aPrev[p * n + i];
            }
            for (final int i : prevSpikes) {
                a[p * n + i] += 1f;
            }
            shiftOf(a, p, shiftScratch);
            return shiftScratch;
        }
    }

    /** {@code gamma a_t} of population {@code p}: the same operation in the forward and backward passes. */
    private void shiftOf(final float[] a, final int p, final float[] out) {
        final float gamma = cfg.adaptation();
        for (int i = 0; i < n; i++) {
            out[i] = gamma * a[p * n + i];
        }
    }

    /** Copies the top layer's membrane potentials of {@code v} (a state's or a tape's) into {@code top}. */
    private void readoutInput(final float[] v, final float[] top) {
        System.arraycopy(v, (layers - 1) * batch * n, top, 0, batch * n);
    }

    /**
     * Adds the readout bias to the logits of row {@code o} and returns their log-sum-exp; the arg-max goes to
     * {@code arg[0]}. Training and inference both run this, so they give one probability bitwise.
     */
    private double logSoftmax(final float[] logits, final int o, final int[] arg) {
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
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            sum += Math.exp(logits[o + k] - max);
        }
        arg[0] = best;
        return max + Math.log(sum);
    }

    @Override
    public void distribution(final LifState state, final float[] probabilities, final int[] argMax) {
        if (state.batch() != batch || state.layers() != layers || state.hidden() != n) {
            throw new IllegalArgumentException("state shape " + state + " does not fit this window");
        }
        final int classes = cfg.vocabularySize();
        final float[] top = new float[batch * n];
        final float[] logits = new float[batch * classes];
        readoutInput(state.rawV(), top);
        backend.multiplyTransposed(readout, top, batch, logits, false);
        final int[] arg = new int[1];
        for (int b = 0; b < batch; b++) {
            final int o = b * classes;
            final double logSum = logSoftmax(logits, o, arg);
            argMax[b] = arg[0];
            for (int k = 0; k < classes; k++) {
                probabilities[o + k] = (float) Math.exp(logits[o + k] - logSum);
            }
        }
    }

    @Override
    public Backward<LifTape> beginBackward() {
        Arrays.fill(grad, 0f);
        outcomes.reset();
        return new LifBackward();
    }

    @Override
    public TargetOutcomes outcomes() {
        return outcomes;
    }

    @Override
    public StateCodec<LifState> codec() {
        return codec;
    }

    @Override
    public long stateBytes(final LifState state) {
        return state.bytes();
    }

    @Override
    public long tapeBytes(final LifTape tape) {
        return tape.bytes();
    }

    /** Forward step evaluations (first pass and recomputation). */
    @Override
    public long forwardSteps() {
        return forwards.stream().mapToLong(f -> f.forwardSteps).sum();
    }

    @Override
    public long backwardSteps() {
        return backwardSteps;
    }

    /** Times a population's spikes exceeded the spike-id buffer (planned capacity, then as grown); it then grew. */
    @Override
    public long spikeOverflows() {
        return forwards.stream().mapToLong(f -> f.spikeOverflows).sum();
    }

    /** Spikes emitted by active populations over all forward evaluations. */
    @Override
    public long spikesEmitted() {
        return forwards.stream().mapToLong(f -> f.spikesEmitted).sum();
    }

    /** Neuron updates of active populations over all forward evaluations (the denominator of activity). */
    @Override
    public long neuronSteps() {
        return forwards.stream().mapToLong(f -> f.neuronSteps).sum();
    }

    /** Spike adjoints computed row-wise for the gated neurons only (instead of one dense product). */
    public long sparseAdjoints() {
        return sparseAdjoints;
    }

    /** Frees the uploaded matrices. */
    @Override
    public void release() {
        readout.close();
        for (int l = 0; l < layers; l++) {
            if (inputMatrices[l] != null) {
                inputMatrices[l].close();
            }
            recurrentMatrices[l].close();
        }
    }

    private static int[] filled(final int length, final int value) {
        final int[] a = new int[length];
        Arrays.fill(a, value);
        return a;
    }

    /**
     * Adjoints carried from step t+1 to t, per population: dL/dV_t through the leak, dL/dS_t through the
     * adaptation, and dA_{t+1}, from which dL/dS_t through W_rec is formed at step t (only for the neurons
     * whose surrogate is non-zero when the theta2 gate is on).
     */
    private final class LifBackward implements Backward<LifTape> {
        private final float[] carryV = new float[layers * batch * n];
        private final float[] carryS = new float[layers * batch * n];
        private final float[] carryA = cfg.adaptive() ? new float[layers * batch * n] : null;
        private final float[] shift = new float[n];
        private final float[] psiDs = new float[n];
        private final float[][] pendingDA = new float[layers][batch * n];
        private final boolean[] hasPending = new boolean[layers];
        private final boolean gated = cfg.theta2() != Float.NEGATIVE_INFINITY;
        private final int[][] candidates = gated ? new int[layers * batch][n] : null;
        private final int[] candidateCount = new int[layers * batch];
        private final int[] candidateStep = filled(layers, Integer.MIN_VALUE);
        private final boolean[] candidateSparse = new boolean[layers];
        private final float[] top = new float[batch * n];
        private final float[] logits = new float[batch * cfg.vocabularySize()];
        private final float[] dz = new float[batch * cfg.vocabularySize()];
        private final int[] argOut = new int[1];
        private final float[] dvReadout = new float[batch * n];
        private final float[] dS = new float[batch * n];
        private final float[] dv = new float[batch * n];
        private final float[] dA = new float[batch * n];
        private final float[] below = new float[batch * n];
        private int expected = in.steps() - 1;

        @Override
        public void step(final LifTape tape) {
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

        private void readoutAndLoss(final LifTape tape, final int t) {
            final int classes = cfg.vocabularySize();
            readoutInput(tape.v, top);
            backend.multiplyTransposed(readout, top, batch, logits, false);
            Arrays.fill(dz, 0f);
            boolean any = false;
            for (int b = 0; b < batch; b++) {
                final int target = in.target(t, b);
                if (target < 0) {
                    continue;
                }
                any = true;
                final int o = b * classes;
                final double logSum = logSoftmax(logits, o, argOut);
                final int arg = argOut[0];
                final double loss = logSum - logits[o + target];
                outcomes.record(t, b, arg, (float) Math.exp(logits[o + arg] - logSum), loss, target);
                final boolean keep = outcomes.keepsDistributions();
                for (int k = 0; k < classes; k++) {
                    final double p = Math.exp(logits[o + k] - logSum);
                    if (keep) {
                        outcomes.recordProbability(t, b, k, p);
                    }
                    dz[o + k] = (float) ((p - (k == target ? 1.0 : 0.0)) * lossScale);
                    grad[params.readoutBias() + k] += dz[o + k];
                }
            }
            if (any) {
                backend.accumulateOuter(grad, params.readoutW(), classes, n, dz, top, batch);
                backend.multiply(readout, dz, batch, dvReadout, false);
            } else {
                Arrays.fill(dvReadout, 0f);
            }
        }

        private void layer(final LifTape tape, final int t, final int l) {
            final float drive = cfg.drive();
            final float alpha = cfg.alpha();
            // dL/dS_t through the recurrence: W_rec dA_{t+1}, needed only where the surrogate of step t is non-zero
            if (hasPending[l]) {
                adjoint(recurrentMatrices[l], params.wRec(l), pendingDA[l], dS, tape, t, l);
            } else {
                Arrays.fill(dS, 0f);
            }
            Arrays.fill(dv, 0f);
            Arrays.fill(dA, 0f);
            for (int b = 0; b < batch; b++) {
                if (!in.active(t, b)) {
                    continue;
                }
                final int p = l * batch + b;
                final int o = b * n;
                for (int i = 0; i < n; i++) {
                    dS[o + i] = dS[o + i] + carryS[p * n + i] + below[o + i];
                    dv[o + i] = carryV[p * n + i] + (l == layers - 1 ? dvReadout[o + i] : 0f);
                }
                if (carryA == null) {
                    lif.surrogateBackward(tape.v, p * n, null, 0, dS, o, cfg.theta(), cfg.beta(), cfg.theta2(), dv,
                            o, n);
                } else {
                    // dL/da_t = carried - gamma * psi * dS; a_t = rho a_{t-1} + S_{t-1} passes it to both
                    shiftOf(tape.a, p, shift);
                    Arrays.fill(psiDs, 0f);
                    lif.surrogateBackward(tape.v, p * n, shift, 0, dS, o, cfg.theta(), cfg.beta(), cfg.theta2(),
                            psiDs, 0, n);
                    final float gamma = cfg.adaptation();
                    final float rho = cfg.adaptationDecay();
                    for (int i = 0; i < n; i++) {
                        dv[o + i] += psiDs[i];
                        final float da = carryA[p * n + i] - gamma * psiDs[i];
                        carryA[p * n + i] = rho * da;
                        carryS[p * n + i] = da; // dL/da_t is also dL/dS_{t-1}
                    }
                }
                for (int i = 0; i < n; i++) {
                    dA[o + i] = drive * dv[o + i];
                    grad[params.bias(l) + i] += dA[o + i];
                }
                if (l == 0) {
                    final int[] rows = in.rows(t, b);
                    backend.scatterAddRows(grad, params.wIn(0), n, rows, in.scales(t, b), 0, rows.length, dA, o);
                } else {
                    final int[] src = tape.spikes[p - batch];
                    backend.scatterAddRows(grad, params.wIn(l), n, src, null, 0, src.length, dA, o);
                }
                final int[] prev = tape.previousSpikes[p];
                backend.scatterAddRows(grad, params.wRec(l), n, prev, null, 0, prev.length, dA, o);
                // the leak path; the hard-reset mask is a constant (stop-gradient)
                for (int i = 0; i < n; i++) {
                    carryV[p * n + i] = alpha * dv[o + i];
                }
                for (final int i : prev) {
                    carryV[p * n + i] = 0f;
                }
            }
            System.arraycopy(dA, 0, pendingDA[l], 0, batch * n);
            hasPending[l] = true;
            if (l > 0) {
                // dL/dS_t of layer l-1 through W_in of layer l, where layer l-1's surrogate is non-zero
                adjoint(inputMatrices[l], params.wIn(l), dA, below, tape, t, l - 1);
            }
        }

        /**
         * {@code out[b] = m x[b]} (rows of {@code m} dotted with {@code x[b]}) for the neurons of layer
         * {@code candidateLayer} at step {@code t} whose surrogate can be non-zero. With the theta2 gate and few
         * such neurons only their rows are computed (sparse backward); otherwise one dense product.
         */
        private void adjoint(final DenseMatrix m, final int wOffset, final float[] x, final float[] out,
                             final LifTape tape, final int t, final int candidateLayer) {
            if (!gated || !collectCandidates(tape, t, candidateLayer)) {
                backend.multiplyTransposed(m, x, batch, out, false);
                return;
            }
            Arrays.fill(out, 0f);
            sparseAdjoints++;
            for (int b = 0; b < batch; b++) {
                final int p = candidateLayer * batch + b;
                if (candidateCount[p] > 0) {
                    backend.dotRows(w, wOffset, n, candidates[p], candidateCount[p], x, b * n, out, b * n);
                }
            }
        }

        /**
         * Lists, per active element, the neurons of {@code layer} at step {@code t} above the surrogate gate
         * (the same float operations as {@code surrogateBackward}). Returns whether they are few enough (under a
         * quarter of the active neurons) for row-wise products to beat one dense product.
         */
        private boolean collectCandidates(final LifTape tape, final int t, final int layer) {
            if (candidateStep[layer] != t) {
                candidateStep[layer] = t;
                int total = 0;
                int activeNeurons = 0;
                for (int b = 0; b < batch; b++) {
                    final int p = layer * batch + b;
                    int count = 0;
                    if (in.active(t, b)) {
                        activeNeurons += n;
                        if (carryA != null) {
                            shiftOf(tape.a, p, shift);
                        }
                        for (int i = 0; i < n; i++) {
                            final float u = carryA == null ? tape.v[p * n + i] : tape.v[p * n + i] - shift[i];
                            if (u > cfg.theta2()) {
                                candidates[p][count++] = i;
                            }
                        }
                    }
                    candidateCount[p] = count;
                    total += count;
                }
                candidateSparse[layer] = 4L * total < activeNeurons;
            }
            return candidateSparse[layer];
        }
    }
}
