package io.spillway.engine.checkpoint;

/**
 * A recurrent model as a checkpoint schedule sees it: the three functions of the double-checkpointing
 * spec (section 2.8) over one window of steps {@code 0..T-1} whose inputs the model re-reads by step
 * index (inputs are never checkpointed). Every schedule (BPTT, uniform, remote, double) drives a model
 * only through this interface, so all schedules compute bit-identical gradients.
 *
 * <p>Contracts an implementation must keep:
 * <ul>
 *   <li>{@link #step} and {@link #stepWithTape} run the same floating-point operations in the same order;
 *   <li>{@link #step} never modifies its argument, so a caller may keep it as a checkpoint;
 *   <li>per-step loss terms are injected inside {@link Backward#step}, recomputed from the tape.
 * </ul>
 * Threading: confined to the trainer thread.
 *
 * @param <S> the carried state (what a checkpoint stores: membranes, last spikes, adaptation)
 * @param <T> a tape: what the backward pass of one step needs
 */
public interface RecurrentModel<S, T> {

    /**
     * Advances {@code state} by one step.
     *
     * @param state state before step {@code t}; not modified
     * @param t step index within the window
     * @param record true only in the first forward pass: the model then records the step's prediction
     *     and loss; recomputation passes call with false so nothing is counted twice
     * @return the state after step {@code t} (a new object)
     */
    S step(S state, int t, boolean record);

    /** Same as {@code step(state, t, false)} and also returns the tape of step {@code t}. */
    Taped<S, T> stepWithTape(S state, int t);

    /** Starts a backward pass with a zero adjoint and zero gradient accumulators held by the model. */
    Backward<T> beginBackward();

    /** Encodes states for off-chip checkpoints (lossless: decode(encode(s)) equals s bitwise). */
    StateCodec<S> codec();

    /** Device bytes one live state occupies (for the memory accountant and the planner). */
    long stateBytes(S state);

    /** Device bytes one tape occupies (for the memory accountant and the planner). */
    long tapeBytes(T tape);

    /** The next state and the tape of the step that produced it. */
    record Taped<S, T>(S state, T tape) {
    }

    /**
     * The reverse sweep: {@link #step} is called once per step, for {@code t = T-1} down to {@code 0} in
     * strictly decreasing order; the adjoint crosses segment boundaries unchanged inside this object.
     */
    interface Backward<T> {
        void step(T tape);
    }
}
