package io.spillway.app.trainer;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Where the trainer publishes what it learns, and (split training) the transaction boundary of its steps. The
 * Kafka implementation produces to the output topics; tests may collect records in memory.
 *
 * <p>Threading: used by the trainer thread only.
 */
public interface TrainingSink extends AutoCloseable {

    /** Publishes {@code value} under {@code key} on {@code topic}; may buffer until {@link #flush()}. */
    void send(String topic, String key, SpecificRecord value);

    /** Publishes a tombstone (null value) under {@code key} on {@code topic}, e.g. to retire a compacted entry. */
    void delete(String topic, String key);

    /** Blocks until everything sent so far is durable; throws if any send failed. */
    void flush();

    /**
     * Opens a transaction: what is sent until {@link #commitTransaction} becomes visible to readers all at once, or,
     * when the commit fails, never. Split training needs it; a sink without transactions refuses.
     */
    default void beginTransaction() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no transactions");
    }

    /**
     * Commits what was sent since {@link #beginTransaction()} together with the chunk-log positions the trainer is
     * through (partition to the first offset not trained; only the partitions that moved), so a step is trained, as
     * far as any reader knows, exactly when its records are committed.
     *
     * @throws org.apache.kafka.common.KafkaException when the commit failed (the transaction is aborted if it still
     *         can be); a {@link org.apache.kafka.common.errors.ProducerFencedException} means a newer process took over
     */
    default void commitTransaction(final Map<Integer, Long> chunkPositions) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no transactions");
    }

    @Override
    void close();
}
