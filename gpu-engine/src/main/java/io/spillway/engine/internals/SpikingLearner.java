package io.spillway.engine.internals;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.MemoryReport;
import io.spillway.engine.Prediction;
import io.spillway.engine.mixture.ContextMixture;
import io.spillway.engine.mixture.ContextModel;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.checkpoint.CheckpointExecutor;
import io.spillway.engine.checkpoint.CheckpointPlanner;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.Allocation;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.model.Cell;
import io.spillway.engine.model.CellWindow;
import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.SplitMix64;
import io.spillway.engine.model.WindowInputs;
import io.spillway.engine.optim.Optimizer;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Learner} of an activity-sparse recurrent network, any {@link Cell} (the LIF spiking cell or the
 * event-based GRU, picked by {@link LearnerConfig#cell()}), trained prequentially on batches of per-key
 * chunks. Each key's recurrent state and last event are carried between chunks ({@link CarriedStates}); a batch
 * becomes one window ({@link CellWindow}) whose element {@code b} has as many steps as chunk {@code b} has
 * inputs, back-propagated by {@link #backpropagate}, optionally clipped to a global gradient norm and followed
 * by one optimizer step over the flattened parameters.
 *
 * <p>Targets: the input at each step is an event; its target is its explicit label, else the next event's
 * type. A chunk's last event has no successor yet, so it waits as the key's pending event and becomes the
 * first input of the key's next chunk. A key's very first event therefore only primes its state.
 *
 * <p>Divergence: a non-finite loss or gradient applies no update; a non-finite parameter after the optimizer
 * step restores parameters and optimizer state. Either way the carried states stay as before the call and
 * the step reports {@code diverged}. Not thread-safe: confine to the trainer thread.
 */
public final class SpikingLearner implements Learner {
    private static final Logger LOG = LoggerFactory.getLogger(SpikingLearner.class);
    private static final int STATE_MAGIC = 0x5350574C; // "SPWL"
    /**
     * 4: each key's mixture context, and the mixture's block at the end. 3: the cell's name and shape in the
     * header (any cell). 2 (LIF only, still read): five shape ints, carried
     * states as SpikeBlockCodec blocks; format 1 had a format byte per block.
     */
    private static final int STATE_FORMAT = 4;
    /** Before the prediction mixture: no context per key, no mixture block; still read. */
    private static final int STATE_FORMAT_V3 = 3;
    private static final int LIF_STATE_FORMAT = 2;
    private static final int MAX_KEY_BYTES = 1 << 24;

    private final LearnerConfig config;
    /** The cell, typed loosely here: states only ever go back to the cell that made them. */
    private final Cell<Object> cell;
    private final ArrayBackend backend;
    private final Optimizer optimizer;
    private final MemoryAccountant accountant;
    private final float[] params;
    private final float[] grad;
    private final float[] before;
    /** Scratch of {@link #deltas}, as long as the largest tensor. */
    private int[] deltaIndices = new int[0];
    private float[] deltaValues = new float[0];
    private final CarriedStates<Object> carried;
    /** The published predictions' second expert; null without one (mixture none, or a single event type). */
    private ContextMixture mixture;
    private final ContextMixture.Outcome mixed = new ContextMixture.Outcome();
    private final SplitMix64 rng;
    private final Allocation parameterMemory;
    private Allocation optimizerMemory;
    private final ByteArrayDataOutput optimizerSnapshot = new ByteArrayDataOutput();
    private long version;
    private long forwardSteps;
    private long trainedSteps;
    private long spikeOverflows;
    private long spikesEmitted;
    private long neuronSteps;
    private long divergedSteps;
    private long clippedSteps;
    private boolean closed;
    private final CheckpointExecutor executor;
    private String schedule = "none yet";
    private long transfersAtStart;

    /**
     * @param backend owned by the learner from now on (closed by {@link #close()})
     * @param optimizer fresh optimizer; the learner initialises it
     */
    public SpikingLearner(final LearnerConfig config, final ArrayBackend backend, final Optimizer optimizer) {
        this(config, backend, shapes -> optimizer);
    }

    /**
     * @param optimizerForShapes makes a fresh optimizer given the {rows, cols} of each parameter tensor in the
     *     flattened order (low-rank M-FAC compresses per matrix)
     */
    public SpikingLearner(final LearnerConfig config, final ArrayBackend backend,
                          final java.util.function.Function<List<int[]>, Optimizer> optimizerForShapes) {
        this(config, backend, accountantFor(config), optimizerForShapes);
    }

    /**
     * @param accountant books every device byte of this learner: the one {@code backend} was opened with, so that
     *     a GPU backend's matrices and product buffers count towards the device budget and its peak; its device
     *     budget should be {@code config.deviceMemoryBytes()} (see {@link #accountantFor})
     */
    public SpikingLearner(final LearnerConfig config, final ArrayBackend backend, final MemoryAccountant accountant,
                          final java.util.function.Function<List<int[]>, Optimizer> optimizerForShapes) {
        this.config = Objects.requireNonNull(config, "config");
        this.backend = Objects.requireNonNull(backend, "backend");
        @SuppressWarnings("unchecked")
        final Cell<Object> made = (Cell<Object>) Cells.of(config);
        this.cell = made;
        this.optimizer = Objects.requireNonNull(optimizerForShapes.apply(cell.tensors().stream()
                .map(t -> new int[] {t.rows(), t.cols()}).toList()), "optimizer");
        this.accountant = Objects.requireNonNull(accountant, "accountant");
        this.rng = new SplitMix64(config.seed());
        this.params = new float[cell.parameterCount()];
        cell.initialise(params, rng.nextLong());
        // weights, gradient and the rollback copy
        this.parameterMemory = accountant.allocate(MemoryTier.DEVICE, 3L * Float.BYTES * params.length,
                "parameters, gradient, rollback copy");
        this.grad = new float[params.length];
        this.before = new float[params.length];
        optimizer.initialise(params.length);
        final float[] rateScales = cell.learningRateScales();
        if (rateScales != null && !optimizer.scaleRates(rateScales)) {
            LOG.info("{} takes one learning rate for every parameter; the {} cell's per-matrix rates apply to Adam",
                    optimizer.describe(), cell.name());
        }
        this.optimizerMemory = accountant.allocate(MemoryTier.DEVICE, optimizer.stateBytes(), "optimizer state");
        this.carried = new CarriedStates<>(config.maxCarriedKeys(), cell::stateBytes);
        this.mixture = newMixture(config);
        this.executor = new CheckpointExecutor(accountant, config.offChipDirectory() == null
                ? OffChipStores.hostMemory() : OffChipStores.mappedFile(config.offChipDirectory()),
                io.spillway.engine.checkpoint.Reuse.FULL, true, config.recomputeAhead());
    }

    /** A learner's accountant: {@code config.deviceMemoryBytes()} of device memory, off-chip memory unlimited. */
    public static MemoryAccountant accountantFor(final LearnerConfig config) {
        return new MemoryAccountant(config.deviceMemoryBytes(), MemoryAccountant.UNLIMITED);
    }

    /** The prediction mixture a learner of {@code config} publishes with, fresh; null when it has none. */
    public static ContextMixture newMixture(final LearnerConfig config) {
        final io.spillway.engine.mixture.MixtureSpec spec = config.mixtureSpec();
        if (!spec.enabled() || config.vocabularySize() < 2) {
            return null;
        }
        if (config.vocabularySize() > io.spillway.engine.mixture.MixtureSpec.MAX_VOCABULARY) {
            LOG.info("Predictions are the network's alone: the prediction mixture runs for vocabularies of at most {}"
                    + " event types, this one has {}", io.spillway.engine.mixture.MixtureSpec.MAX_VOCABULARY,
                    config.vocabularySize());
            return null;
        }
        return new ContextMixture(spec, config.vocabularySize());
    }

    /**
     * One chunk turned into window inputs, before anything is committed; {@code primed}: the key's pending event
     * is the first input (its context already holds it), {@code context}: the key's mixture context before the
     * chunk.
     */
    private record Prepared(SequenceChunk chunk, Object start, int steps, int[][] rows, float[][] scales,
                            int[] targets, int[] targetIndex, SparseEvent pending, boolean primed, long context) {
    }

    @Override
    public TrainingStep train(final List<SequenceChunk> batch) {
        checkOpen();
        Objects.requireNonNull(batch, "batch");
        validate(batch);
        final List<Prepared> all = new ArrayList<>(batch.size());
        final List<Prepared> active = new ArrayList<>();
        for (final SequenceChunk c : batch) {
            final Prepared p = prepare(c);
            all.add(p);
            if (p.steps > 0) {
                active.add(p);
            }
        }
        final long base = version;
        transfersAtStart = accountant.transferredBytes();
        final long[] contexts = new long[all.size()];
        if (active.isEmpty()) {
            predictions(all, null, contexts);
            commit(all, null, null, contexts);
            return new TrainingStep(base, base, 0, 0, 0, List.of(), List.of(), false, schedule, memoryReport(),
                    Double.NaN);
        }
        final WindowInputs inputs = windowInputs(active);
        final CellWindow<Object, ?> window = cell.window(backend, params, inputs, grad);
        if (mixture != null) {
            window.outcomes().keepDistributions(config.vocabularySize());
        }
        final Object end;
        final long emittedBefore = spikesEmitted;
        final long unitStepsBefore = neuronSteps;
        try {
            end = backpropagate(window, cell.stack(active.stream().map(Prepared::start).toList()));
        } finally {
            window.release();
            forwardSteps += window.forwardSteps();
            trainedSteps += window.backwardSteps();
            spikeOverflows += window.spikeOverflows();
            spikesEmitted += window.spikesEmitted();
            neuronSteps += window.neuronSteps();
        }
        final double activity = neuronSteps == unitStepsBefore ? Double.NaN
                : (double) (spikesEmitted - emittedBefore) / (neuronSteps - unitStepsBefore);
        final List<Prediction> predictions = predictions(all, window, contexts);
        final double lossSum = window.lossSum();
        // one pass: a sum of squares of floats in double is finite exactly when every float is
        final double gradientSquares = squares(grad);
        boolean diverged = !Double.isFinite(lossSum) || !Double.isFinite(gradientSquares);
        List<TensorDelta> deltas = List.of();
        if (!diverged) {
            clip(grad, gradientSquares);
            System.arraycopy(params, 0, before, 0, before.length);
            final boolean marked = optimizer.markStep();
            if (!marked) {
                snapshotOptimizer();
            }
            optimizer.step(params, grad);
            cell.constrain(params, before);
            if (allFinite(params)) {
                version++;
                deltas = deltas();
            } else {
                System.arraycopy(before, 0, params, 0, before.length);
                if (marked) {
                    optimizer.undoStep();
                } else {
                    restoreOptimizer();
                }
                diverged = true;
            }
        }
        if (diverged) {
            divergedSteps++;
            if (mixture != null) {
                mixture.rollbackStep();
            }
        } else {
            commit(all, active, end, contexts);
        }
        refreshOptimizerMemory();
        return new TrainingStep(base, version, inputs.targetCount(), lossSum, window.correct(), predictions, deltas,
                diverged, schedule, memoryReport(), activity);
    }

    private static double squares(final float[] g) {
        double sum = 0;
        for (final float f : g) {
            sum += (double) f * f;
        }
        return sum;
    }

    /** Scales the gradient down to the configured global L2 norm (0: no clipping); {@code squares} is its square. */
    private void clip(final float[] g, final double squares) {
        final float max = config.gradientClip();
        if (max <= 0) {
            return;
        }
        final double norm = Math.sqrt(squares);
        if (norm > max) {
            clippedSteps++;
            final float scale = (float) (max / norm);
            for (int i = 0; i < g.length; i++) {
                g[i] *= scale;
            }
        }
    }

    /**
     * Back-propagates the window under the schedule the planner picks for the remaining device budget
     * (or the configured one), through the checkpoint executor. Sizes for planning are the cell's upper bounds
     * of a state and a tape; the accountant enforces the real bytes.
     *
     * @return the state after the last step, carried into the keys' next chunks
     */
    private Object backpropagate(final CellWindow<Object, ?> model, final Object initial) {
        final int steps = model.inputs().steps();
        final int batch = model.inputs().batch();
        final long budget = accountant.budgetBytes(MemoryTier.DEVICE) - accountant.liveBytes(MemoryTier.DEVICE);
        final CheckpointPlanner.Plan plan = CheckpointPlanner.plan(config.checkpointSchedule(), steps,
                cell.plannedStateBytes(batch), cell.plannedTapeBytes(batch), budget);
        if (!plan.schedule().describe().equals(schedule)) {
            LOG.info("Checkpoint schedule for windows of {} steps: {}", steps, plan.explanation());
        }
        schedule = plan.schedule().describe();
        return executor.run(model, initial, steps, plan.schedule()).finalState();
    }

    private void validate(final List<SequenceChunk> batch) {
        final Set<String> keys = new HashSet<>();
        for (final SequenceChunk c : batch) {
            Objects.requireNonNull(c, "chunk");
            if (!keys.add(c.key())) {
                throw new IllegalArgumentException("batch has key '" + c.key() + "' twice; keys must be distinct");
            }
            for (int i = 0; i < c.events().size(); i++) {
                final SparseEvent e = c.events().get(i);
                final String where = "key '" + c.key() + "' event " + i + ": ";
                if (e.eventType() < 0 || e.eventType() >= config.vocabularySize()) {
                    throw new IllegalArgumentException(where + "eventType " + e.eventType() + " outside [0, "
                            + config.vocabularySize() + ")");
                }
                if (e.label() != SparseEvent.NO_LABEL && (e.label() < 0 || e.label() >= config.vocabularySize())) {
                    throw new IllegalArgumentException(where + "label " + e.label() + " outside [0, "
                            + config.vocabularySize() + ")");
                }
                int last = -1;
                for (int k = 0; k < e.featureIndices().length; k++) {
                    final int f = e.featureIndices()[k];
                    if (f <= last || f >= config.featureDimension()) {
                        throw new IllegalArgumentException(where + "feature index " + f + " is not strictly "
                                + "increasing in [0, " + config.featureDimension() + ")");
                    }
                    if (!Float.isFinite(e.featureValues()[k])) {
                        throw new IllegalArgumentException(where + "feature " + f + " is not finite: "
                                + e.featureValues()[k]);
                    }
                    last = f;
                }
            }
        }
    }

    private Prepared prepare(final SequenceChunk c) {
        final CarriedStates.KeyState<Object> entry = carried.peek(c.key());
        final List<SparseEvent> sequence = new ArrayList<>(c.events().size() + 1);
        final int offset = entry != null && entry.pending() != null ? 1 : 0;
        if (offset == 1) {
            sequence.add(entry.pending());
        }
        sequence.addAll(c.events());
        final int steps = sequence.size() - 1;
        final int[][] rows = new int[steps][];
        final float[][] scales = new float[steps][];
        final int[] targets = new int[steps];
        final int[] targetIndex = new int[steps];
        for (int t = 0; t < steps; t++) {
            final SparseEvent e = sequence.get(t);
            final int nnz = e.featureIndices().length;
            rows[t] = new int[1 + nnz];
            scales[t] = new float[1 + nnz];
            rows[t][0] = e.eventType();
            scales[t][0] = 1f;
            for (int k = 0; k < nnz; k++) {
                rows[t][1 + k] = config.vocabularySize() + e.featureIndices()[k];
                scales[t][1 + k] = e.featureValues()[k];
            }
            if (e.label() != SparseEvent.NO_LABEL) {
                targets[t] = e.label();
                targetIndex[t] = t - offset;
            } else {
                targets[t] = sequence.get(t + 1).eventType();
                targetIndex[t] = t + 1 - offset;
            }
        }
        final Object start = entry != null ? entry.state() : cell.zeroState();
        return new Prepared(c, start, steps, rows, scales, targets, targetIndex, sequence.getLast(), offset == 1,
                entry != null ? entry.context() : ContextModel.EMPTY_HISTORY);
    }

    private static WindowInputs windowInputs(final List<Prepared> active) {
        final int batch = active.size();
        final int[] lengths = new int[batch];
        int steps = 0;
        for (int b = 0; b < batch; b++) {
            lengths[b] = active.get(b).steps;
            steps = Math.max(steps, lengths[b]);
        }
        final int[][] rows = new int[batch * steps][];
        final float[][] scales = new float[batch * steps][];
        final int[] targets = new int[batch * steps];
        Arrays.fill(targets, -1);
        for (int b = 0; b < batch; b++) {
            final Prepared p = active.get(b);
            for (int t = 0; t < p.steps; t++) {
                rows[t * batch + b] = p.rows[t];
                scales[t * batch + b] = p.scales[t];
                targets[t * batch + b] = p.targets[t];
            }
        }
        return new WindowInputs(lengths, rows, scales, targets);
    }

    /**
     * One prediction per target, in batch then step order: the network's, or with a mixture the mixture's
     * (the mixture learns from each target as it goes, in the same order). Fills each chunk's mixture context
     * after it into {@code contexts}; {@code w} is null when no chunk had a target.
     */
    private List<Prediction> predictions(final List<Prepared> all, final CellWindow<?, ?> w, final long[] contexts) {
        final List<Prediction> out = new ArrayList<>();
        if (mixture != null) {
            mixture.beginStep();
        }
        final float[] network = mixture != null && w != null ? new float[config.vocabularySize()] : null;
        int b = 0;
        for (int i = 0; i < all.size(); i++) {
            final Prepared p = all.get(i);
            long h = p.context;
            if (mixture != null && !p.primed) {
                // the key's first input has not been counted yet: it is the chunk's first event
                h = mixture.observe(h, p.steps > 0 ? p.rows[0][0] : p.pending.eventType());
            }
            for (int t = 0; t < p.steps; t++) {
                final float networkLoss = w.loss(t, b);
                if (mixture != null) {
                    final int next = t + 1 < p.steps ? p.rows[t + 1][0] : p.pending.eventType();
                    if (p.targetIndex[t] == t + (p.primed ? 0 : 1)) { // the target is the next event
                        w.outcomes().distribution(t, b, network);
                        h = mixture.mix(h, network, next, mixed);
                        out.add(new Prediction(p.chunk.key(), p.targetIndex[t], mixed.predicted(),
                                (float) mixed.probability(), p.targets[t], (float) mixed.loss(), networkLoss));
                        continue;
                    }
                    // an explicit label: the context model predicts event types, not labels
                    h = mixture.observe(h, next);
                }
                out.add(new Prediction(p.chunk.key(), p.targetIndex[t], w.predicted(t, b), w.probability(t, b),
                        p.targets[t], networkLoss));
            }
            if (p.steps > 0) {
                b++;
            }
            contexts[i] = h;
        }
        return List.copyOf(out);
    }

    private void commit(final List<Prepared> all, final List<Prepared> active, final Object end,
                        final long[] contexts) {
        int b = 0;
        for (int i = 0; i < all.size(); i++) {
            final Prepared p = all.get(i);
            final Object state = p.steps > 0 ? cell.element(end, b++) : p.start;
            carried.put(p.chunk.key(), new CarriedStates.KeyState<>(state, p.pending, contexts[i]));
        }
        if (active != null && b != active.size()) {
            throw new IllegalStateException("internal: " + b + " of " + active.size() + " states committed");
        }
    }

    /** What the step changed, tensor by tensor: one pass over the parameters into reused scratch. */
    private List<TensorDelta> deltas() {
        final float[] now = params;
        final List<TensorDelta> out = new ArrayList<>();
        for (final ParameterTensor t : cell.tensors()) {
            if (deltaIndices.length < t.size()) {
                deltaIndices = new int[t.size()];
                deltaValues = new float[t.size()];
            }
            int count = 0;
            for (int i = 0; i < t.size(); i++) {
                final int at = t.offset() + i;
                if (now[at] != before[at]) {
                    deltaIndices[count] = i;
                    deltaValues[count++] = now[at] - before[at];
                }
            }
            if (count > 0) {
                out.add(new TensorDelta(t.name(), t.size(), Arrays.copyOf(deltaIndices, count),
                        Arrays.copyOf(deltaValues, count)));
            }
        }
        return List.copyOf(out);
    }

    private static boolean allFinite(final float[] a) {
        for (final float f : a) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    private void snapshotOptimizer() {
        optimizerSnapshot.reset();
        try {
            optimizer.writeState(optimizerSnapshot);
        } catch (final IOException e) {
            throw new UncheckedIOException("optimizer snapshot failed", e);
        }
    }

    private void restoreOptimizer() {
        try (DataInputStream in = optimizerSnapshot.input()) {
            optimizer.readState(in);
        } catch (final IOException e) {
            throw new UncheckedIOException("optimizer rollback failed", e);
        }
    }

    private void refreshOptimizerMemory() {
        if (optimizer.stateBytes() != optimizerMemory.bytes()) {
            optimizerMemory.close();
            optimizerMemory = accountant.allocate(MemoryTier.DEVICE, optimizer.stateBytes(), "optimizer state");
        }
    }

    private MemoryReport memoryReport() {
        return new MemoryReport(accountant.peakBytes(MemoryTier.DEVICE), accountant.peakBytes(MemoryTier.OFF_CHIP),
                accountant.transferredBytes() - transfersAtStart, forwardSteps, trainedSteps, optimizer.stateBytes(),
                mixturePairs());
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public Map<String, float[]> parameters() {
        checkOpen();
        final Map<String, float[]> out = new LinkedHashMap<>();
        for (final ParameterTensor t : cell.tensors()) {
            out.put(t.name(), Arrays.copyOfRange(params, t.offset(), t.offset() + t.size()));
        }
        return out;
    }

    @Override
    public void applyDelta(final TensorDelta delta) {
        checkOpen();
        Objects.requireNonNull(delta, "delta");
        final ParameterTensor t = cell.tensors().stream().filter(x -> x.name().equals(delta.tensor())).findFirst()
                .orElse(null);
        if (t == null) {
            throw new IllegalArgumentException("unknown tensor '" + delta.tensor() + "'");
        }
        if (t.size() != delta.size()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.size() + " entries, delta says "
                    + delta.size());
        }
        int last = -1;
        for (int k = 0; k < delta.indices().length; k++) {
            final int i = delta.indices()[k];
            if (i <= last || i >= t.size()) {
                throw new IllegalArgumentException("delta indices of '" + t.name() + "' must be strictly increasing"
                        + " in [0, " + t.size() + "): " + i);
            }
            if (!Float.isFinite(delta.values()[k])) {
                throw new IllegalArgumentException("delta value for '" + t.name() + "'[" + i + "] is not finite");
            }
            last = i;
        }
        final float[] v = params;
        for (int k = 0; k < delta.indices().length; k++) {
            v[t.offset() + delta.indices()[k]] += delta.values()[k];
        }
    }

    @Override
    public LearnerConfig config() {
        return config;
    }

    @Override
    public String describe() {
        return cell.describe() + " backend=" + backend.deviceDescription()
                + " optimizer=" + optimizer.describe() + " schedule=" + schedule + " (" + config.checkpointSchedule() + ")"
                + " mixture=" + (mixture == null ? "none" : "context(order=" + config.mixtureSpec().order() + ", pairs<="
                + config.mixtureSpec().maxPairs() + ")");
    }

    /** (Context, event type) pairs the prediction mixture's context model counts; 0 without a mixture. */
    public int mixturePairs() {
        return mixture == null ? 0 : mixture.model().pairs();
    }

    @Override
    public java.util.Optional<io.spillway.engine.PredictionMixture> predictionMixture() {
        checkOpen();
        if (mixture == null) {
            return java.util.Optional.empty();
        }
        try {
            final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            mixture.writeState(new java.io.DataOutputStream(bytes));
            final ContextMixture copy = new ContextMixture(config.mixtureSpec(), config.vocabularySize());
            copy.readState(new DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
            return java.util.Optional.of(io.spillway.engine.PredictionMixture.over(copy));
        } catch (final IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
    }

    /** Heap bytes of the prediction mixture (its count tables); 0 without one. */
    public long mixtureBytes() {
        return mixture == null ? 0 : mixture.bytes();
    }

    @Override
    public String backendName() {
        return backend.name();
    }

    @Override
    public String optimizerDescription() {
        return optimizer.describe();
    }

    /** Keys whose state is carried now. */
    public int carriedKeys() {
        return carried.size();
    }

    /** Keys evicted from the carried-state map so far. */
    public long evictedKeys() {
        return carried.evictions();
    }

    /** Heap bytes of carried states (not booked as device memory: they live between windows). */
    public long carriedStateBytes() {
        return carried.bytes();
    }

    /** Times spikes exceeded a window's spike-id buffer, which then grew (nothing is ever dropped). */
    public long spikeOverflows() {
        return spikeOverflows;
    }

    /** The cell's snapshot name, e.g. {@code lif} or {@code egru}. */
    public String cellName() {
        return cell.name();
    }

    /** Train calls whose gradient was scaled down to the configured norm. */
    public long clippedSteps() {
        return clippedSteps;
    }

    /**
     * Fraction of unit updates that emitted (spikes, or EGRU events), over all forward evaluations so far (0
     * before any).
     */
    public double spikeActivity() {
        return neuronSteps == 0 ? 0.0 : (double) spikesEmitted / neuronSteps;
    }

    /** Train calls rolled back as diverged. */
    @Override
    public long divergedSteps() {
        return divergedSteps;
    }

    /** The accountant every device byte of this learner is booked with. */
    public MemoryAccountant accountant() {
        return accountant;
    }

    /**
     * Writes everything needed to continue bit-identically: model version, RNG position, parameters,
     * optimizer state and every carried key state with its pending event, in eviction order. Snapshots use it.
     * Cumulative metrics (forward steps, overflows) are not part of it.
     */
    @Override
    public void writeState(final DataOutput out) throws IOException {
        checkOpen();
        out.writeInt(STATE_MAGIC);
        out.writeInt(STATE_FORMAT);
        out.writeUTF(cell.name());
        cell.writeShape(out);
        out.writeLong(version);
        out.writeLong(rng.state());
        final float[] v = params;
        out.writeInt(v.length);
        for (final float f : v) {
            out.writeInt(Float.floatToRawIntBits(f));
        }
        optimizer.writeState(out);
        final StateCodec<Object> codec = cell.codec(1);
        final ByteBuffer buf = ByteBuffer.allocate(codec.maxEncodedBytes());
        out.writeLong(carried.evictions());
        out.writeInt(carried.size());
        for (final Map.Entry<String, CarriedStates.KeyState<Object>> e : carried.entries()) {
            final byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8); // any length, unlike writeUTF
            out.writeInt(key.length);
            out.write(key);
            buf.clear();
            codec.encode(e.getValue().state(), buf);
            out.writeInt(buf.position());
            out.write(buf.array(), 0, buf.position());
            final SparseEvent p = e.getValue().pending();
            out.writeBoolean(p != null);
            if (p != null) {
                out.writeInt(p.eventType());
                out.writeInt(p.label());
                out.writeInt(p.featureIndices().length);
                for (int k = 0; k < p.featureIndices().length; k++) {
                    out.writeInt(p.featureIndices()[k]);
                    out.writeInt(Float.floatToRawIntBits(p.featureValues()[k]));
                }
            }
            out.writeLong(e.getValue().context());
        }
        out.writeBoolean(mixture != null);
        if (mixture != null) {
            // length-prefixed, so that a learner without a mixture (or with another one) can skip it
            final ByteArrayDataOutput block = new ByteArrayDataOutput();
            mixture.writeState(block);
            out.writeInt(block.size());
            block.writeTo(out);
        }
    }

    /**
     * Replaces this learner's state with one written by {@link #writeState} of a learner with the same shape.
     * Every length is bounded by this learner's configuration before it is allocated, and every value is
     * checked (finite weights and optimizer state, event types and feature indices in range, counts not
     * negative, no key twice). A key's carried state with a non-finite potential, which training itself can leave
     * (an input that saturates a neuron), is replaced by a zero state rather than refusing the whole model.
     *
     * @throws StateMismatchException if the state is of another model shape or optimizer
     * @throws InvalidStateException if it is damaged, naming the field
     * @throws IOException if it ends early; in every case this learner is then unchanged only if the header was
     *     rejected, so callers restore into a fresh learner or roll back
     */
    @Override
    public void readState(final DataInput in) throws IOException {
        checkOpen();
        if (in.readInt() != STATE_MAGIC) {
            throw new InvalidStateException("not a spiking learner state");
        }
        final int format = in.readInt();
        final String stateCell;
        if (format == STATE_FORMAT || format == STATE_FORMAT_V3) {
            stateCell = in.readUTF();
        } else if (format == LIF_STATE_FORMAT) {
            stateCell = "lif"; // written before the cell seam, when LIF was the only cell
        } else {
            throw new InvalidStateException("unknown learner state format " + format);
        }
        if (!stateCell.equals(cell.name())) {
            throw new StateMismatchException("state is of a " + StateChecks.quote(stateCell) + " learner, this"
                    + " learner's cell is '" + cell.name() + "': a model cannot be restored into another cell (start"
                    + " with --cell " + stateCell.replaceAll("[^A-Za-z0-9_-]", "?") + ", or start fresh)");
        }
        cell.checkShape(in);
        version = StateChecks.readNonNegative(in, "model version");
        rng.state(in.readLong());
        final float[] v = params;
        StateChecks.readExactly(in, v.length, "parameter count");
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.intBitsToFloat(in.readInt());
        }
        for (final ParameterTensor t : cell.tensors()) {
            StateChecks.requireFinite(v, t.offset(), t.size(), "parameter " + t.name());
        }
        optimizer.readState(in);
        final StateCodec<Object> codec = cell.codec(1);
        carried.clear();
        final long evictions = StateChecks.readNonNegative(in, "carried-key eviction count");
        // not bounded by this learner's capacity: a state written with a larger one restores, the least recent keys
        // evicted as training would have (the count allocates nothing; each key's bytes are bounded below)
        final int keys = StateChecks.readLength(in, Integer.MAX_VALUE, "carried key count");
        final long evictedBefore = carried.evictions();
        int reset = 0;
        for (int k = 0; k < keys; k++) {
            final byte[] keyBytes = new byte[StateChecks.readLength(in, MAX_KEY_BYTES, "carried key length")];
            in.readFully(keyBytes);
            final String key = new String(keyBytes, StandardCharsets.UTF_8);
            final String of = " of key " + StateChecks.quote(key);
            if (carried.peek(key) != null) {
                throw new InvalidStateException("carried key " + StateChecks.quote(key) + " appears twice");
            }
            final byte[] bytes = new byte[StateChecks.readLength(in, codec.maxEncodedBytes(),
                    "carried state length" + of)];
            in.readFully(bytes);
            final ByteBuffer record = ByteBuffer.wrap(bytes);
            Object state;
            try {
                state = codec.decode(record);
            } catch (final IllegalArgumentException | java.nio.BufferUnderflowException e) {
                throw new InvalidStateException("carried state" + of + ": "
                        + (e.getMessage() == null ? "record ends early" : e.getMessage()), e);
            }
            if (record.hasRemaining()) {
                throw new InvalidStateException("carried state" + of + ": " + record.remaining()
                        + " bytes after the record");
            }
            if (!cell.canContinue(state)) {
                // e.g. a saturated LIF neuron's infinite potential: the key restarts from rest, the model is kept
                state = cell.zeroState();
                reset++;
            }
            SparseEvent pending = null;
            if (StateChecks.readFlag(in, "pending-event flag" + of)) {
                final int type = StateChecks.readIndex(in, config.vocabularySize(), "pending event type" + of);
                final int label = in.readInt();
                if (label != SparseEvent.NO_LABEL) {
                    StateChecks.requireIndex(label, config.vocabularySize(), "pending event label" + of);
                }
                final int nnz = StateChecks.readLength(in, config.featureDimension(),
                        "pending event feature count" + of);
                final int[] idx = new int[nnz];
                final float[] val = new float[nnz];
                for (int i = 0; i < nnz; i++) {
                    idx[i] = in.readInt();
                    val[i] = Float.intBitsToFloat(in.readInt());
                }
                StateChecks.requireIncreasing(idx, nnz, config.featureDimension(), "pending event feature index" + of);
                StateChecks.requireFinite(val, "pending event feature value" + of);
                pending = new SparseEvent(type, idx, val, label);
            }
            final long context = format == STATE_FORMAT ? in.readLong() : ContextModel.EMPTY_HISTORY;
            carried.put(key, new CarriedStates.KeyState<>(state, pending, context));
        }
        readMixture(in, format == STATE_FORMAT && StateChecks.readFlag(in, "mixture flag"));
        carried.evictions(evictions + carried.evictions() - evictedBefore);
        if (reset > 0) {
            LOG.warn("{} of {} restored key states held non-finite potentials; those keys restart from a zero state",
                    reset, keys);
        }
        refreshOptimizerMemory();
    }

    /**
     * The mixture's block, if the state has one ({@code present}): restored when this learner mixes with the same
     * settings; otherwise skipped, and the mixture (if any) and every key's context start afresh, as when a state
     * from before mixtures is restored. Each restored context must be one of the mixture's.
     */
    private void readMixture(final DataInput in, final boolean present) throws IOException {
        boolean restored = false;
        if (present) {
            final int n = StateChecks.readLength(in, Integer.MAX_VALUE, "mixture state length");
            if (mixture != null && n <= mixture.maxStateBytes()) {
                final byte[] block = new byte[n];
                in.readFully(block);
                try (DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(block))) {
                    mixture.readState(d);
                    if (d.available() > 0) {
                        throw new InvalidStateException(d.available() + " bytes after the mixture state");
                    }
                    restored = true;
                } catch (final StateMismatchException otherSettings) {
                    LOG.warn("The restored state's prediction mixture has other settings ({}); it starts afresh",
                            otherSettings.getMessage());
                }
            } else {
                for (long left = n; left > 0; ) {
                    final int skipped = in.skipBytes((int) Math.min(left, Integer.MAX_VALUE));
                    if (skipped <= 0) {
                        in.readByte(); // at the end: throws EOFException
                        left--;
                    } else {
                        left -= skipped;
                    }
                }
                if (mixture != null) {
                    LOG.warn("The restored state's prediction mixture counts more pairs than this learner's {} allows;"
                            + " it starts afresh", config.mixture());
                }
            }
        }
        if (!restored && mixture != null) {
            mixture = newMixture(config); // a failed read may have left it half-read
        }
        final List<String> keys = new ArrayList<>();
        for (final Map.Entry<String, CarriedStates.KeyState<Object>> e : carried.entries()) {
            keys.add(e.getKey());
        }
        for (final String key : keys) {
            final CarriedStates.KeyState<Object> e = carried.peek(key);
            if (restored && !mixture.model().validHistory(e.context())) {
                throw new InvalidStateException("mixture context of key " + StateChecks.quote(key) + " ("
                        + Long.toHexString(e.context()) + ") is not one of an order-" + config.mixtureSpec().order()
                        + " context model of " + config.vocabularySize() + " event types");
            }
            if (!restored && e.context() != ContextModel.EMPTY_HISTORY) {
                carried.replace(key, new CarriedStates.KeyState<>(e.state(), e.pending(), ContextModel.EMPTY_HISTORY));
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("learner is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            carried.clear();
            executor.close();
            optimizerMemory.close();
            parameterMemory.close();
            backend.close();
        }
    }
}
