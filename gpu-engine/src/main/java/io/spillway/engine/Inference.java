package io.spillway.engine;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.Backends;
import io.spillway.engine.internals.Cells;
import io.spillway.engine.model.Cell;
import io.spillway.engine.model.CellWindow;
import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.WindowInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Scoring without training: a key's carried state advanced by its events under given weights, and the next-event
 * distribution after each. It runs the training code itself, not a copy: the cell's forward step
 * ({@link CellWindow#step}) and the readout and softmax the backward pass records its predictions with
 * ({@link CellWindow#distribution}). So, for the same weights and the same events from the same state, a
 * distribution's arg-max and its probability equal the {@link Prediction} the learner makes prequentially, bitwise
 * on the CPU backend as long as the readout's product stays on the backend's Java loops (below
 * {@code 2^17} multiply-adds per step of a batch, e.g. a vocabulary of 256 and a hidden size of 512 at batch 1);
 * above that, OpenBLAS's blocking may depend on the batch size and the two differ in the last bits.
 *
 * <p>Threading: thread-safe on the CPU backend (every call makes its own window; weights and states are never
 * written); calls on another backend are serialised. Weights passed in must not change while a call uses them.
 */
public final class Inference implements AutoCloseable {
    private final LearnerConfig config;
    private final Cell<Object> cell;
    private final ArrayBackend backend;
    private final boolean concurrent;
    /** The window's gradient accumulator: inference never runs a backward pass, so nothing is written to it. */
    private final float[] unusedGradient;

    private Inference(final LearnerConfig config, final Cell<Object> cell, final ArrayBackend backend) {
        this.config = config;
        this.cell = cell;
        this.backend = backend;
        this.concurrent = "cpu".equals(backend.name());
        this.unusedGradient = new float[cell.parameterCount()];
    }

    /**
     * Inference for models of {@code config}'s cell and shape, on its backend ({@code auto} falls back to the CPU
     * with a logged reason, as for a learner).
     */
    @SuppressWarnings("unchecked")
    public static Inference create(final LearnerConfig config) {
        Objects.requireNonNull(config, "config");
        final Cell<Object> cell = (Cell<Object>) Cells.of(config);
        return new Inference(config, cell, Backends.select(config.backend()));
    }

    /** A key's carried recurrent state; immutable. */
    public static final class KeyState {
        private final Object state;
        private final long bytes;

        private KeyState(final Object state, final long bytes) {
            this.state = state;
            this.bytes = bytes;
        }

        /** Heap bytes the state holds. */
        public long bytes() {
            return bytes;
        }
    }

    /**
     * The next-event distribution after an event.
     *
     * @param argMax the class the learner would predict (the lowest index among equal logits)
     * @param probabilities probability of each class, length the vocabulary size; owned by this record, do not change
     */
    public record Distribution(int argMax, float[] probabilities) {
        /** Probability of {@link #argMax}: the learner's prequential {@link Prediction#probability()}. */
        public float probability() {
            return probabilities[argMax];
        }

        /**
         * The {@code k} most probable classes, most probable first ({@link #argMax} first; ties by lower class).
         */
        public int[] top(final int k) {
            final int n = Math.min(k, probabilities.length);
            final Integer[] order = new Integer[probabilities.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> a == argMax ? -1 : b == argMax ? 1
                    : probabilities[a] != probabilities[b] ? Float.compare(probabilities[b], probabilities[a])
                    : Integer.compare(a, b));
            final int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = order[i];
            }
            return out;
        }
    }

    /**
     * What {@link #score} did.
     *
     * @param state the key's state after the last event
     * @param distributions the distribution after each event, in order (or after the last only, as asked)
     */
    public record Scored(KeyState state, List<Distribution> distributions) {
    }

    /** The cell's name, e.g. {@code egru}. */
    public String cellName() {
        return cell.name();
    }

    public int vocabularySize() {
        return config.vocabularySize();
    }

    public int featureDimension() {
        return config.featureDimension();
    }

    /** Trainable tensors in the flat vector's order. */
    public List<ParameterTensor> tensors() {
        return cell.tensors();
    }

    /** Length of the flat weight vector {@link #score} takes. */
    public int parameterCount() {
        return cell.parameterCount();
    }

    /** The backend in use, e.g. {@code cpu}. */
    public String backendName() {
        return backend.name();
    }

    /**
     * The flat weight vector of named tensors (as {@link Learner#parameters()} gives them).
     *
     * @throws IllegalArgumentException when a tensor is missing or of another size
     */
    public float[] flatten(final Map<String, float[]> tensors) {
        final float[] flat = new float[cell.parameterCount()];
        for (final ParameterTensor t : cell.tensors()) {
            final float[] v = tensors.get(t.name());
            if (v == null || v.length != t.size()) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' of " + t.size() + " entries: "
                        + (v == null ? "missing" : v.length + " given"));
            }
            System.arraycopy(v, 0, flat, t.offset(), t.size());
        }
        return flat;
    }

    /** The state of a key never seen (the learner starts every key from it). */
    public KeyState zeroState() {
        final Object zero = cell.zeroState();
        return new KeyState(zero, cell.stateBytes(zero));
    }

    /**
     * Advances {@code state} by {@code events} under {@code weights} and gives the next-event distribution after
     * each event ({@code everyEvent}) or after the last one only.
     *
     * @param weights the flat weight vector ({@link #flatten}); not changed, and must not change during the call
     * @param events at least one, valid for this model
     * @throws IllegalArgumentException for an event outside the model's vocabulary or features, or no events
     */
    public Scored score(final float[] weights, final KeyState state, final List<SparseEvent> events,
                        final boolean everyEvent) {
        Objects.requireNonNull(state, "state");
        if (weights.length != cell.parameterCount()) {
            throw new IllegalArgumentException("weights have " + weights.length + " entries, the model "
                    + cell.parameterCount());
        }
        if (events.isEmpty()) {
            throw new IllegalArgumentException("no events to score");
        }
        final int steps = events.size();
        final int[][] rows = new int[steps][];
        final float[][] scales = new float[steps][];
        for (int t = 0; t < steps; t++) {
            final SparseEvent e = check(events.get(t), t);
            // the learner's input layout: the event type's row, then one row per feature after the vocabulary
            final int nnz = e.featureIndices().length;
            rows[t] = new int[1 + nnz];
            scales[t] = new float[1 + nnz];
            rows[t][0] = e.eventType();
            scales[t][0] = 1f;
            for (int k = 0; k < nnz; k++) {
                rows[t][1 + k] = config.vocabularySize() + e.featureIndices()[k];
                scales[t][1 + k] = e.featureValues()[k];
            }
        }
        final int[] targets = new int[steps];
        Arrays.fill(targets, -1);
        final WindowInputs inputs = new WindowInputs(new int[] {steps}, rows, scales, targets);
        if (concurrent) {
            return run(weights, state, inputs, everyEvent);
        }
        synchronized (this) {
            return run(weights, state, inputs, everyEvent);
        }
    }

    /**
     * The next-event distribution of {@code state} as it stands, read out under {@code weights} (which may be newer
     * than the weights that advanced it).
     */
    public Distribution distribution(final float[] weights, final KeyState state) {
        Objects.requireNonNull(state, "state");
        if (weights.length != cell.parameterCount()) {
            throw new IllegalArgumentException("weights have " + weights.length + " entries, the model "
                    + cell.parameterCount());
        }
        final WindowInputs none = new WindowInputs(new int[] {0}, new int[0][], new float[0][], new int[0]);
        if (concurrent) {
            return readout(weights, state, none);
        }
        synchronized (this) {
            return readout(weights, state, none);
        }
    }

    private Distribution readout(final float[] weights, final KeyState state, final WindowInputs none) {
        final CellWindow<Object, ?> window = cell.window(backend, weights, none, unusedGradient);
        try {
            final float[] p = new float[config.vocabularySize()];
            final int[] arg = new int[1];
            window.distribution(state.state, p, arg);
            return new Distribution(arg[0], p);
        } finally {
            window.release();
        }
    }

    private Scored run(final float[] weights, final KeyState state, final WindowInputs inputs,
                       final boolean everyEvent) {
        final CellWindow<Object, ?> window = cell.window(backend, weights, inputs, unusedGradient);
        try {
            Object s = state.state;
            final List<Distribution> out = new ArrayList<>(everyEvent ? inputs.steps() : 1);
            for (int t = 0; t < inputs.steps(); t++) {
                s = window.step(s, t, false);
                if (everyEvent || t == inputs.steps() - 1) {
                    final float[] p = new float[config.vocabularySize()];
                    final int[] arg = new int[1];
                    window.distribution(s, p, arg);
                    out.add(new Distribution(arg[0], p));
                }
            }
            return new Scored(new KeyState(s, cell.stateBytes(s)), List.copyOf(out));
        } finally {
            window.release();
        }
    }

    private SparseEvent check(final SparseEvent e, final int i) {
        Objects.requireNonNull(e, "event");
        final String where = "event " + i + ": ";
        if (e.eventType() < 0 || e.eventType() >= config.vocabularySize()) {
            throw new IllegalArgumentException(where + "eventType " + e.eventType() + " outside [0, "
                    + config.vocabularySize() + ")");
        }
        int last = -1;
        for (int k = 0; k < e.featureIndices().length; k++) {
            final int f = e.featureIndices()[k];
            if (f <= last || f >= config.featureDimension()) {
                throw new IllegalArgumentException(where + "feature index " + f + " is not strictly increasing in [0, "
                        + config.featureDimension() + ")");
            }
            if (!Float.isFinite(e.featureValues()[k])) {
                throw new IllegalArgumentException(where + "feature " + f + " is not finite");
            }
            last = f;
        }
        return e;
    }

    @Override
    public void close() {
        backend.close();
    }
}
