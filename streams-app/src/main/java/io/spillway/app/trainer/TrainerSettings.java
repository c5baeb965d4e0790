package io.spillway.app.trainer;

import java.time.Duration;
import java.util.Objects;

/**
 * How the trainer batches and publishes.
 *
 * @param modelId name of the model all instances train together
 * @param instanceId this instance, in deltas and metrics
 * @param batchKeys at most this many chunks (of distinct keys) per training step
 * @param snapshotEveryVersions publish a full snapshot every this many model versions (0: never)
 * @param maxDeltaEntries sparse entries per ModelDelta record, to stay under the broker's record size limit
 * @param snapshotChunkBytes payload bytes per ModelSnapshotChunk record
 * @param truncateChunkLog delete the chunk-log entries a durable snapshot includes (tests that audit the whole
 *        log keep them)
 * @param scaleOut how instances share the training ({@link ScaleOut#REPLICATE} by default)
 * @param deltaDensity {@link ScaleOut#SPLIT} only: fraction of each tensor's entries an instance publishes per step
 *        (the largest of update plus residual); the rest stays in its error-feedback residual, in (0, 1]
 * @param batchLookahead {@link ScaleOut#REPLICATE} only: chunk-log entries a step may pass over (chunks of keys it
 *        already has) to take chunks of other keys further down the log; 0 closes a step at the first repeated key.
 *        Interleaved partitions or a busy key put a key's chunks close together in the log, and without lookahead
 *        they cut steps short
 * @param batchWindowMs a step takes no chunk handed over more than this long after its first one (on the input's
 *        clock: the chunk records' timestamps), so lookahead never holds a chunk back longer than a max-wait flush would
 * @param warmUpMs before it consumes anything, the app trains a throwaway learner of the same configuration on
 *        synthetic events this long ({@link io.spillway.engine.Learners#warmUp}), so the JIT has compiled the
 *        engine's kernels before the stream competes for the CPU; 0: none
 * @param allowConfigChange restore a snapshot made with other learner settings than the configured ones (not the
 *        model's shape, cell or optimizer, which never change), with a warning naming them; otherwise such a
 *        snapshot stops the start with the settings named ({@link SnapshotRestore})
 */
public record TrainerSettings(String modelId, String instanceId, int batchKeys, int snapshotEveryVersions,
                              int maxDeltaEntries, int snapshotChunkBytes, boolean truncateChunkLog,
                              ScaleOut scaleOut, double deltaDensity, int batchLookahead, long batchWindowMs,
                              long warmUpMs, boolean allowConfigChange) {
    /** Default fraction of entries published per step in split mode. */
    public static final double DEFAULT_DELTA_DENSITY = 0.3;
    /**
     * Default entries a step may pass over: enough to reach past a partition that Kafka Streams processed ahead of
     * the others (while catching up on a backlog) to the keys of the others.
     */
    public static final int DEFAULT_BATCH_LOOKAHEAD = 256;
    /** Default event-time window of a step (the CLI's default max chunk wait). */
    public static final long DEFAULT_BATCH_WINDOW_MS = 2_000;

    /** Replicated training. */
    public TrainerSettings(final String modelId, final String instanceId, final int batchKeys,
                           final int snapshotEveryVersions, final int maxDeltaEntries, final int snapshotChunkBytes,
                           final boolean truncateChunkLog) {
        this(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries, snapshotChunkBytes,
                truncateChunkLog, ScaleOut.REPLICATE, 1.0, DEFAULT_BATCH_LOOKAHEAD, DEFAULT_BATCH_WINDOW_MS, 0, false);
    }

    /** Settings that truncate the chunk log behind each snapshot. */
    public TrainerSettings(final String modelId, final String instanceId, final int batchKeys,
                           final int snapshotEveryVersions, final int maxDeltaEntries, final int snapshotChunkBytes) {
        this(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries, snapshotChunkBytes, true);
    }

    public TrainerSettings {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(scaleOut, "scaleOut");
        if (!(deltaDensity > 0 && deltaDensity <= 1)) {
            throw new IllegalArgumentException("delta density must be in (0, 1]: " + deltaDensity);
        }
        if (batchLookahead < 0 || batchWindowMs < 0 || warmUpMs < 0) {
            throw new IllegalArgumentException("batch lookahead, window and warm-up must be >= 0: " + batchLookahead
                    + " entries, " + batchWindowMs + " ms, " + warmUpMs + " ms");
        }
        if (batchKeys <= 0 || snapshotEveryVersions < 0 || maxDeltaEntries <= 0 || snapshotChunkBytes <= 0) {
            throw new IllegalArgumentException("bad trainer settings: " + batchKeys + " keys per step, snapshot every "
                    + snapshotEveryVersions + ", " + maxDeltaEntries + " delta entries, " + snapshotChunkBytes + " B chunks");
        }
    }

    /** The same settings for another instance. */
    public TrainerSettings withInstanceId(final String instance) {
        return new TrainerSettings(modelId, instance, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, scaleOut, deltaDensity, batchLookahead, batchWindowMs, warmUpMs,
                allowConfigChange);
    }

    /** The same settings with at most {@code keys} chunks (of distinct keys) per step. */
    public TrainerSettings withBatchKeys(final int keys) {
        return new TrainerSettings(modelId, instanceId, keys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, scaleOut, deltaDensity, batchLookahead, batchWindowMs, warmUpMs,
                allowConfigChange);
    }

    /** The same settings with a snapshot every {@code versions} model versions (0: never). */
    public TrainerSettings withSnapshotEvery(final int versions) {
        return new TrainerSettings(modelId, instanceId, batchKeys, versions, maxDeltaEntries, snapshotChunkBytes,
                truncateChunkLog, scaleOut, deltaDensity, batchLookahead, batchWindowMs, warmUpMs, allowConfigChange);
    }

    /** The same settings with another way of sharing the training. */
    public TrainerSettings withScaleOut(final ScaleOut mode, final double density) {
        return new TrainerSettings(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, mode, density, batchLookahead, batchWindowMs, warmUpMs,
                allowConfigChange);
    }

    /** The same settings with another lookahead (entries a step may pass over) and event-time window. */
    public TrainerSettings withBatchLookahead(final int entries, final long windowMs) {
        return new TrainerSettings(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, scaleOut, deltaDensity, entries, windowMs, warmUpMs,
                allowConfigChange);
    }

    /** The same settings with another warm-up before consuming. */
    public TrainerSettings withWarmUp(final Duration warmUp) {
        return new TrainerSettings(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, scaleOut, deltaDensity, batchLookahead, batchWindowMs,
                warmUp.toMillis(), allowConfigChange);
    }

    /** The same settings, restoring (or not) a snapshot made with other learner settings. */
    public TrainerSettings withConfigChangeAllowed(final boolean allow) {
        return new TrainerSettings(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, scaleOut, deltaDensity, batchLookahead, batchWindowMs, warmUpMs,
                allow);
    }

    public static TrainerSettings defaults(final String modelId, final String instanceId) {
        // 100k entries x 8 B (index + value) stays well under Kafka's 1 MiB default record limit.
        return new TrainerSettings(modelId, instanceId, 16, 200, 100_000, 512 * 1024);
    }
}
