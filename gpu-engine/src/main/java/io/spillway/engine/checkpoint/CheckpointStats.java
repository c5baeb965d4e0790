package io.spillway.engine.checkpoint;

/**
 * What one window's backward pass cost, counted by the executor.
 *
 * @param steps T
 * @param forwardEvaluations every forward step evaluated (first pass and recomputation)
 * @param backwardSteps steps back-propagated (always T)
 * @param remoteWrites checkpoints written off-chip
 * @param remoteReads checkpoints read back
 * @param bytesWritten off-chip bytes written
 * @param bytesRead off-chip bytes read
 * @param peakLocalSlots most local checkpoints plus tapes alive at once
 * @param peakDeviceBytes the accountant's device high-water mark during the window
 */
public record CheckpointStats(int steps, long forwardEvaluations, long backwardSteps, long remoteWrites,
                              long remoteReads, long bytesWritten, long bytesRead, int peakLocalSlots,
                              long peakDeviceBytes) {

    /** Forward evaluations beyond the first pass. */
    public long recomputedSteps() {
        return forwardEvaluations - steps;
    }
}
