package io.spillway.engine;

import java.util.List;

/**
 * What one {@link Learner#train} call did.
 *
 * @param baseVersion model version before the step
 * @param version model version after the step ({@code baseVersion + 1}, or equal if nothing was applied)
 * @param targets number of trained targets (events whose type was predicted and learned)
 * @param lossSum sum of the network's per-target cross-entropy, nats, measured before the update (prequential);
 *     what the published predictions scored is {@link #predictionLossSum()}
 * @param correct targets whose arg-max prediction was right, before the update
 * @param predictions one per target, in batch then step order
 * @param deltas the applied parameter change per tensor (only non-zero entries)
 * @param diverged true when the loss or update was not finite and the step was rolled back
 * @param schedule description of the checkpoint schedule used, e.g. {@code double(Cr=256,Cl=16)}
 * @param memory accountant figures after the step
 * @param activity fraction of unit updates in this step's forward evaluations that emitted (a spike or an
 *     EGRU event), 0..1; NaN when nothing ran
 */
public record TrainingStep(long baseVersion, long version, int targets, double lossSum, int correct,
                           List<Prediction> predictions, List<TensorDelta> deltas, boolean diverged,
                           String schedule, MemoryReport memory, double activity) {

    /** Mean loss per target in nats, or NaN when nothing was trained. */
    public double meanLoss() {
        return targets == 0 ? Double.NaN : lossSum / targets;
    }

    /**
     * Sum of the predictions' cross-entropy, nats: with a prediction mixture the mixture's (what was published),
     * else {@link #lossSum} as the predictions carry it (in float).
     */
    public double predictionLossSum() {
        double sum = 0;
        for (final Prediction p : predictions) {
            sum += p.loss();
        }
        return sum;
    }

    /** Predictions whose class was right (the mixture's, with one). */
    public int predictionsCorrect() {
        int n = 0;
        for (final Prediction p : predictions) {
            n += p.predictedType() == p.actualType() ? 1 : 0;
        }
        return n;
    }

    /** Fraction of targets predicted right, or NaN when nothing was trained. */
    public double accuracy() {
        return targets == 0 ? Double.NaN : (double) correct / targets;
    }
}
