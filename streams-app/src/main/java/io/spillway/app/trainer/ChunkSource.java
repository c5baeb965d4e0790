package io.spillway.app.trainer;

import io.spillway.app.topology.TimedChunk;
import java.time.Duration;
import java.util.List;

/**
 * Where the trainer reads chunks from: a log, read in offset order from the position the trainer resumed at.
 * The Kafka implementation is {@link KafkaChunkLog}; tests may supply a list.
 *
 * <p>Threading: used by the trainer thread only, except {@link #readPosition()}.
 */
public interface ChunkSource extends AutoCloseable {

    /**
     * An entry of the log: a chunk, or a barrier (a max-wait flush happened here: close the open batch).
     *
     * @param partition the chunk-log partition it was read from (0 for the one-partition log of replicated training)
     * @param offset the entry's offset in its partition
     * @param chunk the chunk, or null for a barrier
     * @param timestampMs the record's timestamp: the input's clock when the topology handed the chunk over
     */
    record Entry(int partition, long offset, TimedChunk chunk, long timestampMs) {
        /** An entry of partition 0. */
        public Entry(final long offset, final TimedChunk chunk, final long timestampMs) {
            this(0, offset, chunk, timestampMs);
        }

        /** An entry of partition 0 stamped with its chunk's last event time (0 for a barrier). */
        public Entry(final long offset, final TimedChunk chunk) {
            this(offset, chunk, chunk == null || chunk.size() == 0 ? 0 : chunk.timestampsMs()[chunk.size() - 1]);
        }

        public static Entry barrier(final long offset) {
            return new Entry(offset, null);
        }

        public boolean isBarrier() {
            return chunk == null;
        }
    }

    /**
     * The next entries in offset order, possibly none after {@code timeout}.
     *
     * @throws TruncatedException when the entries at the read position are gone: a snapshot (of another replica)
     *         includes them and the log was truncated behind it
     */
    List<Entry> poll(Duration timeout) throws InterruptedException;

    /** Continues reading at {@code offset}. */
    void seek(long offset);

    /** The log no longer holds the entries at the read position. */
    final class TruncatedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public TruncatedException(final String message, final Throwable cause) {
            super(message, cause);
        }
    }

    /** Offset of the first entry the log still holds, or -1 when unknown. */
    default long firstOffset() {
        return -1;
    }

    /** Entries known to be in the log but not read yet, or -1 when unknown. */
    long lag();

    /** Offset of the next entry to read (past every entry read so far); safe from any thread. */
    long readPosition();

    /**
     * Lets the log drop the entries before {@code offset}: a durable snapshot includes them. Asynchronous and
     * best effort (a failure is logged; the next snapshot tries again).
     */
    void truncateBefore(long offset);

    @Override
    void close();
}
