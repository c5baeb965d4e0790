package io.spillway.app.trainer;

/**
 * How instances that share an application id share the training.
 *
 * <ul>
 *   <li>{@link #REPLICATE} (default): the chunk log has one partition and every instance trains all of it, so
 *       replicas agree bit for bit and a restart is bit-identical to an uninterrupted run. The topology's work
 *       (decoding, validation, chunking) is split; the training is not.</li>
 *   <li>{@link #SPLIT}: the chunk log has one partition per input partition, a consumer group of trainers splits
 *       them, and each instance publishes its updates compressed with error feedback and applies everyone
 *       else's. Replicas agree within float rounding once the stream drains and the residuals are flushed.</li>
 * </ul>
 */
public enum ScaleOut {
    REPLICATE,
    SPLIT;

    /**
     * Partitions of the chunk log for {@code inputPartitions} of input: one in replicated training (its order is the
     * training order, fed by every stream task), one per input partition in split training (the trainers' group
     * splits them).
     */
    public int chunkPartitions(final int inputPartitions) {
        return this == SPLIT ? inputPartitions : 1;
    }

    /** Parses {@code replicate} or {@code split} (any case). */
    public static ScaleOut parse(final String text) {
        for (final ScaleOut s : values()) {
            if (s.name().equalsIgnoreCase(text.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("scale-out must be replicate or split: " + text);
    }
}
