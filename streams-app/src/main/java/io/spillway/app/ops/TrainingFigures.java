package io.spillway.app.ops;

/**
 * What one training step reported, as operators see it: the same figures as the {@code TrainingMetrics}
 * records on the metrics topic. Immutable.
 *
 * @param timestampMs wall-clock time of the step
 * @param modelVersion model version after the step
 * @param loss mean prequential loss of the step, nats per event (NaN when nothing was trained): the network's
 *     own, what it trains on
 * @param accuracy fraction of next-event predictions that were right, 0..1 (NaN when nothing was trained)
 * @param eventsPerSecond trained events per second over the recent window
 * @param eventsTrained total events trained since start
 * @param consumerLag records behind the end of the input topic, or -1 when unknown
 * @param queueDepth chunk-log entries written but not trained yet (read ahead or still to read)
 * @param peakDeviceBytes peak device (accelerator or budgeted CPU) bytes of the step
 * @param offChipBytes bytes spilled to off-chip memory (pinned host memory or a memory-mapped file)
 * @param transferBytes bytes copied between device and off-chip memory in the step
 * @param recomputeRatio recomputed forward steps over trained steps (0 for plain BPTT)
 * @param optimizerWindowBytes bytes of the optimizer's gradient window and residuals
 * @param divergedSteps steps rolled back because a loss or update was not finite, since start
 * @param backend compute backend, e.g. {@code cpu}
 * @param optimizer optimizer description, e.g. {@code mfac-sparse(m=1024, k=1%)}
 * @param checkpointSchedule schedule the planner chose, e.g. {@code double(Cr=256,Cl=16)}
 * @param predictionLoss mean loss of the step's published predictions, nats per event: the network mixed with
 *     the context model (mixture = context), else {@code loss}; NaN when nothing was trained or unknown
 * @param predictionAccuracy accuracy of the published predictions, 0..1; NaN as {@code predictionLoss}
 * @param mixturePairs pairs the prediction mixture's context model counts (0 without one, -1 unknown)
 */
public record TrainingFigures(long timestampMs, long modelVersion, double loss, double accuracy,
                              double eventsPerSecond, long eventsTrained, long consumerLag, int queueDepth,
                              long peakDeviceBytes, long offChipBytes, long transferBytes, double recomputeRatio,
                              long optimizerWindowBytes, long divergedSteps, String backend, String optimizer,
                              String checkpointSchedule, double predictionLoss, double predictionAccuracy,
                              long mixturePairs) {

    /** The published predictions' loss (with a mixture, the mixture's), or the network's where that is unknown. */
    public double publishedLoss() {
        return Double.isNaN(predictionLoss) ? loss : predictionLoss;
    }

    /** The published predictions' accuracy, or the network's where that is unknown. */
    public double publishedAccuracy() {
        return Double.isNaN(predictionAccuracy) ? accuracy : predictionAccuracy;
    }
}
