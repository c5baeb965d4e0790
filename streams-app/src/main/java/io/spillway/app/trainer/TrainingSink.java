package io.spillway.app.trainer;

import org.apache.avro.specific.SpecificRecord;

/**
 * Where the trainer publishes what it learns. The Kafka implementation produces to the output topics;
 * tests may collect records in memory.
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

    @Override
    void close();
}
