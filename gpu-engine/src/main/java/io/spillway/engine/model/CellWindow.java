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

    /** Sum of the per-target cross-entropy (nats) recorded by the backward pass; regularisers excluded. */
    double lossSum();

    /** Targets whose arg-max prediction was right. */
    int correct();

    /** Arg-max class predicted at {@code (t, b)}, or -1 where there was no target. */
    int predicted(int t, int b);

    /** Probability the model gave its arg-max class at {@code (t, b)}. */
    float probability(int t, int b);

    /** Cross-entropy of the target at {@code (t, b)}, nats. */
    float loss(int t, int b);

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
