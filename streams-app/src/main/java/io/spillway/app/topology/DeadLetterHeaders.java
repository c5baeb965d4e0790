package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/** The headers a dead-lettered record carries, so an operator can find and replay its source. */
public final class DeadLetterHeaders {
    /** Every header Spillway writes starts with this; a producer's own headers of that name are not passed on. */
    public static final String PREFIX = "spillway.dlq.";
    /** Stable reason code, e.g. {@code wrong-magic-byte}. */
    public static final String REASON = PREFIX + "reason";
    /** Human-readable explanation, at most {@link #MAX_MESSAGE_CHARS} characters. */
    public static final String MESSAGE = PREFIX + "message";
    public static final String SOURCE_TOPIC = PREFIX + "source.topic";
    public static final String SOURCE_PARTITION = PREFIX + "source.partition";
    public static final String SOURCE_OFFSET = PREFIX + "source.offset";
    /** The record's timestamp as produced, when it was invalid (the dead letter carries a substitute). */
    public static final String ORIGINAL_TIMESTAMP = PREFIX + "original.timestamp";
    /** {@code true} when the dead letter's key or value was cut to fit the dead-letter topic. */
    public static final String TRUNCATED = PREFIX + "truncated";
    public static final String ORIGINAL_KEY_BYTES = PREFIX + "original.key.bytes";
    public static final String ORIGINAL_VALUE_BYTES = PREFIX + "original.value.bytes";
    /** Hex SHA-256 of the whole original value, to match a truncated dead letter with its source record. */
    public static final String ORIGINAL_VALUE_SHA256 = PREFIX + "original.value.sha256";
    /** How many of the producer's headers were left out to make the dead letter fit. */
    public static final String HEADERS_DROPPED = PREFIX + "headers.dropped";
    /** Messages quote keys and values, which can be megabytes long. */
    static final int MAX_MESSAGE_CHARS = 1024;

    private DeadLetterHeaders() {
    }

    static void add(final Headers headers, final Rejection rejection, final SourcePosition source) {
        put(headers, REASON, rejection.reason());
        final String message = rejection.message();
        put(headers, MESSAGE, message.length() <= MAX_MESSAGE_CHARS ? message
                : message.substring(0, MAX_MESSAGE_CHARS - 3) + "...");
        if (source != null) {
            put(headers, SOURCE_TOPIC, source.topic());
            put(headers, SOURCE_PARTITION, Integer.toString(source.partition()));
            put(headers, SOURCE_OFFSET, Long.toString(source.offset()));
        }
    }

    static void put(final Headers headers, final String name, final String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The value of the last header {@code name} as UTF-8 text, or null when there is none or it has no value (a
     * producer may send a header with a null value). Every header Spillway reads as text goes through here.
     */
    public static String get(final Headers headers, final String name) {
        final Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
