package io.spillway.engine.model.egru;

/**
 * Shape and constants of the event-based GRU (EGRU, Subramoney et al., ICLR 2023).
 *
 * @param vocabularySize event types; the one-hot part of the input and the readout's classes
 * @param featureDimension sparse real features appended to the one-hot input (0: none)
 * @param hiddenSize units per layer
 * @param layers layers; layer l reads layer l-1's events of the same step
 * @param thresholdMean mean of the initial per-unit thresholds, drawn from {@code Beta(3m/(1-m), 3)}; in (0, 1)
 * @param pseudoDerivativeScale kappa of the pseudo-derivative {@code do/dc = kappa * max(0, 1 - kappa |c - theta|)}
 *     (a triangle of area 1 and half-width {@code 1/kappa})
 * @param activityTarget the fraction of emitting units the activity regulariser holds each step near, in [0, 1]
 * @param activityRegularization lambda of the regulariser {@code lambda (mean(o) - target)^2} per step, layer and
 *     element, weighted like one target's loss; 0 disables it
 * @param candidateBias initial bias of the candidate gate, so that the cell state starts below the thresholds
 * @param readout what the readout reads from every layer
 * @param learnThresholds whether the thresholds are trained (kept in [0, 1]) or stay at their initial values
 */
public record EgruSettings(int vocabularySize, int featureDimension, int hiddenSize, int layers, float thresholdMean,
                           float pseudoDerivativeScale, float activityTarget, float activityRegularization,
                           float candidateBias, Readout readout, boolean learnThresholds) {

    /** The readout's input, over all layers concatenated. */
    public enum Readout {
        /** The dense pre-reset cell states {@code c-hat}: more information, a dense product. */
        CELL,
        /** The graded events {@code y = c-hat * o}: sparse. */
        EVENTS
    }

    public EgruSettings {
        if (vocabularySize <= 0 || featureDimension < 0 || hiddenSize <= 0 || layers <= 0) {
            throw new IllegalArgumentException("bad shape: vocab=" + vocabularySize + " features=" + featureDimension
                    + " hidden=" + hiddenSize + " layers=" + layers);
        }
        if (!(thresholdMean > 0 && thresholdMean < 1)) {
            throw new IllegalArgumentException("thresholdMean must be in (0, 1): " + thresholdMean);
        }
        if (!(pseudoDerivativeScale >= 0) || Float.isInfinite(pseudoDerivativeScale)) {
            throw new IllegalArgumentException("pseudoDerivativeScale must be >= 0: " + pseudoDerivativeScale);
        }
        if (!(activityTarget >= 0 && activityTarget <= 1)) {
            throw new IllegalArgumentException("activityTarget must be in [0, 1]: " + activityTarget);
        }
        if (!(activityRegularization >= 0) || Float.isInfinite(activityRegularization)) {
            throw new IllegalArgumentException("activityRegularization must be >= 0: " + activityRegularization);
        }
        if (!Float.isFinite(candidateBias)) {
            throw new IllegalArgumentException("candidateBias must be finite: " + candidateBias);
        }
        if (readout == null) {
            throw new IllegalArgumentException("readout must be given");
        }
    }

    /**
     * The learner's defaults: thresholds around 0.2, kappa 2, activity held near 0.15 with lambda 1, candidate
     * bias -0.5, the dense cell-state readout, frozen thresholds.
     */
    public static EgruSettings of(final int vocabularySize, final int featureDimension, final int hiddenSize,
                                  final int layers) {
        return new EgruSettings(vocabularySize, featureDimension, hiddenSize, layers, 0.2f, 2f, 0.15f, 1f, -0.5f,
                Readout.CELL, false);
    }

    /** Inputs of layer 0: one-hot event type followed by the sparse features. */
    public int inputDimension() {
        return vocabularySize + featureDimension;
    }

    /** Gate pre-activations per unit: update, reset and candidate. */
    public int gates() {
        return 3 * hiddenSize;
    }
}
