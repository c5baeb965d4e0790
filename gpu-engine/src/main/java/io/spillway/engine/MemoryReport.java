package io.spillway.engine;

/**
 * Memory and work figures from the memory accountant and the checkpoint executor. Byte counts are
 * exact allocator figures, not estimates.
 *
 * @param peakDeviceBytes high-water mark of device ("local") bytes since the learner started
 * @param offChipBytes off-chip ("remote") bytes currently held
 * @param transferBytes bytes moved between device and off-chip memory, cumulative
 * @param forwardSteps forward step evaluations, cumulative (first pass plus recomputation)
 * @param trainedSteps steps back-propagated, cumulative
 * @param optimizerWindowBytes bytes held by the optimizer's state (e.g. the M-FAC gradient window)
 * @param mixturePairs (context, event type) pairs the prediction mixture's context model counts, up to its bound;
 *     0 without a mixture
 */
public record MemoryReport(long peakDeviceBytes, long offChipBytes, long transferBytes, long forwardSteps,
                           long trainedSteps, long optimizerWindowBytes, long mixturePairs) {

    /** Recomputed forward steps: forward evaluations beyond one per trained step. */
    public long recomputedSteps() {
        return Math.max(0, forwardSteps - trainedSteps);
    }

    /** Recomputed steps per trained step (0 for BPTT, about 2 for naive double checkpointing). */
    public double recomputeRatio() {
        return trainedSteps == 0 ? 0.0 : (double) recomputedSteps() / trainedSteps;
    }
}
