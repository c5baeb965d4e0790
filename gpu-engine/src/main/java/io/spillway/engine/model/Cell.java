package io.spillway.engine.model;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.checkpoint.StateCodec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;

/**
 * A recurrent cell as the learner sees it: the layout of its flat parameter vector, its carried per-key state
 * and that state's lossless codec, and the {@link CellWindow} that trains one window of a batch under any
 * checkpoint schedule. The learner, the checkpoint executor, the optimizers and snapshots serve any cell
 * through this interface; each cell lives in its own package ({@code model.lif}, {@code model.egru}).
 *
 * <p>States are immutable; a batch state stacks batch-1 states (one per key) and splits back into them.
 * Implementations are immutable and thread-safe; the windows they make are not.
 *
 * @param <S> the carried state
 */
public interface Cell<S> {

    /** Short stable name written into snapshots and accepted by {@code --cell}, e.g. {@code lif}. */
    String name();

    /** Human-readable shape and constants, for logs. */
    String describe();

    /** Trainable tensors in their stable order; offsets index the flat vector. */
    List<ParameterTensor> tensors();

    /** Length of the flat parameter vector. */
    int parameterCount();

    /** Fills {@code values} (length {@link #parameterCount()}) with initial weights from {@code seed}. */
    void initialise(float[] values, long seed);

    /** The batch-1 state of a key never seen. */
    S zeroState();

    /**
     * Whether a carried state read from a snapshot can go on training; a key whose state cannot restarts from
     * {@link #zeroState()} (the model is kept). The default accepts every state its codec decodes.
     */
    default boolean canContinue(final S state) {
        return true;
    }

    /** Stacks batch-1 states, in list order, into one batch state. */
    S stack(List<S> parts);

    /** The batch-1 state of element {@code b} of a batch state. */
    S element(S state, int b);

    /** Heap bytes a state holds. */
    long stateBytes(S state);

    /** Lossless codec for batch states of {@code batch} elements. */
    StateCodec<S> codec(int batch);

    /**
     * Upper bounds used by the checkpoint planner for a state and a tape of {@code batch} elements, in bytes
     * (the accountant enforces the real figures).
     */
    long plannedStateBytes(int batch);

    /** See {@link #plannedStateBytes}. */
    long plannedTapeBytes(int batch);

    /**
     * The model over one window.
     *
     * @param values the live flat parameter vector; must not change while the window is used
     * @param gradient accumulator of the same length, zeroed by the window's {@code beginBackward}
     */
    CellWindow<S, ?> window(ArrayBackend backend, float[] values, WindowInputs inputs, float[] gradient);

    /**
     * Writes what a snapshot must hold to refuse a state of another cell or shape: every constant that changes
     * the parameter layout or the state format.
     */
    void writeShape(DataOutput out) throws IOException;

    /**
     * Reads what {@link #writeShape} wrote and checks it against this cell.
     *
     * @throws io.spillway.engine.StateMismatchException with the difference when the shape is not this cell's
     */
    void checkShape(DataInput in) throws IOException;

    /**
     * Projects parameters back into their admissible range after an optimizer step (e.g. thresholds kept in
     * [0, 1]) and puts frozen ones back to {@code before}, their values before the step; the default does
     * nothing.
     */
    default void constrain(final float[] values, final float[] before) {
    }

    /**
     * Per-parameter multipliers of the learning rate, in the flattened order, or {@code null} for one rate
     * everywhere (the default). Optimizers that take one rate for every parameter ignore them
     * ({@link io.spillway.engine.optim.Optimizer#scaleRates}).
     */
    default float[] learningRateScales() {
        return null;
    }
}
