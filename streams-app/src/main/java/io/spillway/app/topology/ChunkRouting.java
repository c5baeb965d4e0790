package io.spillway.app.topology;

/**
 * Which input partition the chunking task's chunks and barriers name; the chunk sink sends each to the chunk-log
 * partition of that input partition (modulo the chunk log's partitions).
 *
 * @param openPartitionStore the store of the open chunks' input partitions ({@link OpenChunkPartitions}), when
 *        chunks name their records' partition (a task reading a {@link DictionarySequence}); null: they name the
 *        task's own, its input partition
 * @param chunkLogPartitions the chunk log's partitions: a flush writes one barrier to each of them that got a chunk
 *        after its last barrier
 */
record ChunkRouting(String openPartitionStore, int chunkLogPartitions) {
    /** A task reading its input partition itself: everything names that partition. */
    static final ChunkRouting TASK_PARTITION = new ChunkRouting(null, 1);

    ChunkRouting {
        if (chunkLogPartitions < 1) {
            throw new IllegalArgumentException("chunkLogPartitions must be >= 1: " + chunkLogPartitions);
        }
    }
}
