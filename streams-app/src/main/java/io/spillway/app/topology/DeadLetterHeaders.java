package io.spillway.app.topology;

/**
 * Header names added to dead-lettered records. The record keeps its original key, value and headers; these are
 * appended. Values are UTF-8 strings.
 */
public final class DeadLetterHeaders {
    /** Stable code: the name of a {@link DeadLetterReason}. */
    public static final String REASON = "spillway.dlq.reason";
    /** Human-readable description of the problem. */
    public static final String MESSAGE = "spillway.dlq.message";
    /** Topic the record was read from. */
    public static final String SOURCE_TOPIC = "spillway.dlq.source.topic";
    /** Partition the record was read from (decimal). */
    public static final String SOURCE_PARTITION = "spillway.dlq.source.partition";
    /** Offset the record was read from (decimal). */
    public static final String SOURCE_OFFSET = "spillway.dlq.source.offset";

    private DeadLetterHeaders() {
    }
}
