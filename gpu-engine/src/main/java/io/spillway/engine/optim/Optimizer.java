package io.spillway.engine.optim;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A first-order optimizer over one flattened parameter vector (all tensors concatenated in a fixed
 * order). Lifecycle, after Tribuo's {@code StochasticGradientOptimiser}: {@link #initialise(int)} once,
 * then {@link #step} per minibatch; {@link #reset()} forgets all state; {@link #copy()} gives the same
 * configuration with independent, fresh state.
 *
 * <p>Threading: not thread-safe; confine to the trainer thread. Determinism: on the CPU, the same
 * inputs in the same order give bitwise-equal results.
 */
public interface Optimizer {

    /** Allocates state for {@code dimension} parameters. Must be called before {@link #step}. */
    void initialise(int dimension);

    /**
     * Applies one update to {@code params} in place from {@code gradient} (the mean minibatch gradient of
     * the loss). {@code gradient} may be overwritten (it is scratch after the call).
     */
    void step(float[] params, float[] gradient);

    /** Short name with the key settings, for logs and metrics. */
    String describe();

    /** Bytes of optimizer state (for M-FAC: the gradient window plus residuals), from the accountant's formulas. */
    long stateBytes();

    /** Number of completed {@link #step} calls since {@link #initialise} or {@link #reset}. */
    long steps();

    /** Writes all state needed to continue bit-identically after {@link #readState}. */
    void writeState(DataOutput out) throws IOException;

    /** Restores state written by {@link #writeState} of an optimizer with the same configuration. */
    void readState(DataInput in) throws IOException;

    /** Forgets all state (keeps the configuration and dimension). */
    void reset();

    /** Same configuration, independent uninitialised state. */
    Optimizer copy();

    /**
     * Multiplies the learning rate of each parameter by {@code perParameter[i]} from now on (after
     * {@link #initialise}; the scales are configuration, not state: {@link #copy()} keeps them, {@link #writeState}
     * does not write them). The default takes one rate for every parameter and returns false.
     *
     * @return whether this optimizer applies the scales
     */
    default boolean scaleRates(final float[] perParameter) {
        return false;
    }

    /**
     * Saves what {@link #step} changes so that {@link #undoStep} can put it back, for a learner that undoes a step
     * whose result diverged. Cheaper than a {@link #writeState} round trip where an optimizer has one (copies of its
     * arrays); the default has none.
     *
     * @return whether the state was saved; if not, the caller round-trips {@link #writeState}/{@link #readState}
     */
    default boolean markStep() {
        return false;
    }

    /** Puts back the state {@link #markStep} saved (which must have returned true) and forgets the mark. */
    default void undoStep() {
        throw new IllegalStateException(describe() + " saves no state to undo a step with");
    }
}
