package io.spillway.engine.checkpoint;

import java.util.Optional;

/**
 * A recurrent model as a checkpoint schedule sees it: the three functions of
 * docs/spec-double-checkpointing.md §2.8 over one window of steps {@code 0..T-1} whose inputs the model re-reads by
 * step index (inputs are never checkpointed). Every schedule (BPTT, uniform, remote, double) drives a model
 * only through this interface, so all schedules compute bit-identical gradients.
 *
 * <p>Contracts an implementation must keep:
 * <ul>
 *   <li>{@link #step} and {@link #stepWithTape} run the same floating-point operations in the same order;
 *   <li>{@link #step} never modifies its argument, so a caller may keep it as a checkpoint;
 *   <li>per-step loss terms are injected inside {@link Backward#step}, recomputed from the tape.
 * </ul>
 * Threading: confined to the trainer thread, apart from the passes {@link #concurrentForward()} hands out.
 *
 * @param <S> the carried state (what a checkpoint stores: membranes, last spikes, adaptation)
 * @param <T> a tape: what the backward pass of one step needs
 */
public interface RecurrentModel<S, T> extends ForwardPass<S, T> {

    /**
     * A second forward pass over the same weights and inputs, with its own scratch, that another thread may
     * run while this model's {@link Backward} runs (the executor recomputes the next sub-segment with it
     * during the backward sweep of the current one). Its states must equal {@link #step}'s bitwise. Empty
     * (the default) when the model cannot run a forward pass concurrently.
     */
    default Optional<ForwardPass<S, T>> concurrentForward() {
        return Optional.empty();
    }

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
