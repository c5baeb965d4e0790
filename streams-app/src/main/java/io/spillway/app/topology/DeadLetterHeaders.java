package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/** The headers a dead-lettered record carries, so an operator can find and replay its source. */
public final class DeadLetterHeaders {
    /** Stable reason code, e.g. {@code wrong-magic-byte}. */
    public static final String REASON = "spillway.dlq.reason";
    /** Human-readable explanation. */
    public static final String MESSAGE = "spillway.dlq.message";
    public static final String SOURCE_TOPIC = "spillway.dlq.source.topic";
    public static final String SOURCE_PARTITION = "spillway.dlq.source.partition";
    public static final String SOURCE_OFFSET = "spillway.dlq.source.offset";

    private DeadLetterHeaders() {
    }

    static void add(final Headers headers, final Rejection rejection, final Optional<RecordMetadata> source) {
        put(headers, REASON, rejection.reason());
        put(headers, MESSAGE, rejection.message());
        source.ifPresent(m -> {
            put(headers, SOURCE_TOPIC, m.topic());
            put(headers, SOURCE_PARTITION, Integer.toString(m.partition()));
            put(headers, SOURCE_OFFSET, Long.toString(m.offset()));
        });
    }

    private static void put(final Headers headers, final String name, final String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of header {@code name} as text, or null. */
    public static String get(final Headers headers, final String name) {
        final Header h = headers.lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
