package io.spillway.engine.model;

import io.spillway.engine.checkpoint.RecurrentModel;

/**
 * A cell's {@link RecurrentModel} over one training window of a batch, with what the learner reads once
 * the schedule has run: the loss, the predictions and the activity counters. Losses and predictions are
 * recorded by the backward pass, from the tapes, so every schedule records each step exactly once.
 *
 * @param <S> the carried state
 * @param <T> a tape
 */
public interface CellWindow<S, T> extends RecurrentModel<S, T> {

    WindowInputs inputs();

    /** What the backward pass recorded at each target (one place for every cell: {@link TargetOutcomes}). */
    TargetOutcomes outcomes();

    /** Sum of the per-target cross-entropy (nats) recorded by the backward pass; regularisers excluded. */
    default double lossSum() {
        return outcomes().lossSum();
    }

    /** Targets whose arg-max prediction was right. */
    default int correct() {
        return outcomes().correct();
    }

    /** Arg-max class predicted at {@code (t, b)}, or -1 where there was no target. */
    default int predicted(final int t, final int b) {
        return outcomes().predicted(t, b);
    }

    /** Probability the model gave its arg-max class at {@code (t, b)}. */
    default float probability(final int t, final int b) {
        return outcomes().probability(t, b);
    }

    /** Cross-entropy of the target at {@code (t, b)}, nats. */
    default float loss(final int t, final int b) {
        return outcomes().loss(t, b);
    }

    /**
     * Inference: the readout's next-event distribution for {@code state}, a state of this window's batch that a
     * forward step ({@link #step}) returned. It is computed by the same readout and softmax code the backward pass
     * records predictions with, so for equal weights and state {@code argMax[b]} equals {@link #predicted} and
     * {@code probabilities[b * vocabulary + argMax[b]]} equals {@link #probability} bitwise. Needs no target and
     * touches neither the gradient nor the recorded losses.
     *
     * @param probabilities filled with the probability of class {@code k} for element {@code b} at
     *     {@code b * vocabulary + k}
     * @param argMax filled with each element's arg-max class (the lowest index among equal logits)
     */
    void distribution(S state, float[] probabilities, int[] argMax);

    /** Forward step evaluations (first pass and recomputation). */
    long forwardSteps();

    /** Backward step evaluations. */
    long backwardSteps();

    /** Times an event-id buffer was too small and grew (nothing is ever dropped). */
    long spikeOverflows();

    /** Events (spikes, or emitting units) of active populations over all forward evaluations. */
    long spikesEmitted();

    /** Unit updates of active populations over all forward evaluations (the denominator of activity). */
    long neuronSteps();

    /** Frees what the window uploaded to the backend. */
    void release();
}
