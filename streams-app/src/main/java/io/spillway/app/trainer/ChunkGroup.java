package io.spillway.app.trainer;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Where a split-training instance reads its share of the chunk log: the partitions a group of trainers assigns it,
 * each read in offset order from the offset the group committed. The Kafka implementation is
 * {@link KafkaChunkGroup}; tests may supply lists.
 *
 * <p>Threading: used by the trainer thread only.
 */
public interface ChunkGroup extends AutoCloseable {

    /** Told when the group moves partitions; called from within {@link #poll}. */
    interface Assignment {
        /** These partitions are no longer this instance's: their new owner reads them from the committed offset. */
        void revoked(Collection<Integer> partitions);

        /** This instance now reads {@code owned} (all it owns, ascending). */
        void assigned(List<Integer> owned);
    }

    /** Joins the group; {@code listener} hears of every assignment from then on. */
    void subscribe(Assignment listener);

    /** The next entries of the owned partitions (each partition's in offset order), possibly none after {@code timeout}. */
    List<ChunkSource.Entry> poll(Duration timeout) throws InterruptedException;

    /** The partitions this instance owns now, ascending. */
    List<Integer> assignment();

    /** Offset of the next entry of owned {@code partition} to read (past every entry read so far). */
    long position(int partition);

    /** Partitions of the chunk log, owned or not. */
    int partitionCount();

    /**
     * Lets the log drop, per partition, the entries before the offset: the group has trained them. Asynchronous and
     * best effort (a failure is logged; the next truncation retries).
     */
    void truncateBefore(Map<Integer, Long> offsets);

    @Override
    void close();
}
