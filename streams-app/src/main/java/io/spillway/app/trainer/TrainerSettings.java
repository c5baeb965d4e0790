package io.spillway.app.trainer;

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
 */
public record TrainerSettings(String modelId, String instanceId, int batchKeys, int snapshotEveryVersions,
                              int maxDeltaEntries, int snapshotChunkBytes, boolean truncateChunkLog,
                              ScaleOut scaleOut, double deltaDensity) {
    /** Default fraction of entries published per step in split mode. */
    public static final double DEFAULT_DELTA_DENSITY = 0.3;

    /** Replicated training. */
    public TrainerSettings(final String modelId, final String instanceId, final int batchKeys,
                           final int snapshotEveryVersions, final int maxDeltaEntries, final int snapshotChunkBytes,
                           final boolean truncateChunkLog) {
        this(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries, snapshotChunkBytes,
                truncateChunkLog, ScaleOut.REPLICATE, 1.0);
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
        if (batchKeys <= 0 || snapshotEveryVersions < 0 || maxDeltaEntries <= 0 || snapshotChunkBytes <= 0) {
            throw new IllegalArgumentException("bad trainer settings: " + batchKeys + " keys per step, snapshot every "
                    + snapshotEveryVersions + ", " + maxDeltaEntries + " delta entries, " + snapshotChunkBytes + " B chunks");
        }
    }

    /** The same settings with another way of sharing the training. */
    public TrainerSettings withScaleOut(final ScaleOut mode, final double density) {
        return new TrainerSettings(modelId, instanceId, batchKeys, snapshotEveryVersions, maxDeltaEntries,
                snapshotChunkBytes, truncateChunkLog, mode, density);
    }

    public static TrainerSettings defaults(final String modelId, final String instanceId) {
        // 100k entries x 8 B (index + value) stays well under Kafka's 1 MiB default record limit.
        return new TrainerSettings(modelId, instanceId, 16, 200, 100_000, 512 * 1024);
    }
}
