package io.spillway.engine.checkpoint;

/**
 * The forward half of a {@link RecurrentModel}: all a recomputation needs.
 *
 * @param <S> the carried state
 * @param <T> a tape
 */
public interface ForwardPass<S, T> {

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
    RecurrentModel.Taped<S, T> stepWithTape(S state, int t);
}
