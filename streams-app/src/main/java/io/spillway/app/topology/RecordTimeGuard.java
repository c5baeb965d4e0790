package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The input's timestamp extractor. Kafka Streams' default fails the stream thread on a negative record timestamp
 * (librdkafka producers can send one and the broker stores it), so the client shuts down and every restart stops at
 * the same record; an extractor returning it negative makes Streams drop the record with only a metric. This one
 * keeps every record: an invalid timestamp (negative, or further ahead of the wall clock than allowed) is replaced
 * by the partition's time so far, and the original is kept in the {@link DeadLetterHeaders#ORIGINAL_TIMESTAMP}
 * header, which tells the chunking processor to dead-letter the record. A header of that name sent by a producer
 * is removed first.
 */
final class RecordTimeGuard implements TimestampExtractor {
    private final long maxAheadMs;
    private final LongSupplier wallClockMs;

    RecordTimeGuard(final long maxAheadMs, final LongSupplier wallClockMs) {
        this.maxAheadMs = maxAheadMs;
        this.wallClockMs = wallClockMs;
    }

    @Override
    public long extract(final ConsumerRecord<Object, Object> record, final long partitionTime) {
        final long timestamp = record.timestamp();
        record.headers().remove(DeadLetterHeaders.ORIGINAL_TIMESTAMP);
        if (timestamp >= 0 && timestamp - wallClockMs.getAsLong() <= maxAheadMs) {
            return timestamp;
        }
        record.headers().add(DeadLetterHeaders.ORIGINAL_TIMESTAMP,
                Long.toString(timestamp).getBytes(StandardCharsets.UTF_8));
        return Math.max(0, partitionTime);
    }

    /** The invalid timestamp the record was produced with, or null when it was valid. */
    static Long invalidTimestamp(final org.apache.kafka.common.header.Headers headers) {
        final String original = DeadLetterHeaders.get(headers, DeadLetterHeaders.ORIGINAL_TIMESTAMP);
        return original == null ? null : Long.parseLong(original);
    }
}
