package io.spillway.app.topology;

/**
 * Why an input record went to the dead-letter topic. The enum names are the stable codes written in the
 * {@link DeadLetterHeaders#REASON} header; do not rename them.
 */
public enum DeadLetterReason {
    /** The record has no key or an empty key, or a key that is not valid UTF-8 or contains NUL. */
    MISSING_KEY,
    /** The record value is null (a tombstone has no meaning on the events topic). */
    MISSING_VALUE,
    /** The value is not Confluent wire-format Avro (too short, wrong magic byte, undecodable body). */
    DESERIALIZATION_FAILED,
    /** The value names a schema id the registry does not know. */
    UNKNOWN_SCHEMA_ID,
    /** The writer schema cannot be read as the Event schema. */
    INCOMPATIBLE_SCHEMA,
    /** The Event's entityId differs from the record key. */
    KEY_MISMATCH,
    /** The event type is outside {@code [0, vocabulary size)}. */
    BAD_EVENT_TYPE,
    /** The explicit label is outside {@code [0, vocabulary size)}. */
    BAD_LABEL,
    /** Feature indices are out of range, not strictly increasing, or differ in length from the values. */
    BAD_FEATURE_INDEX,
    /** A feature value is NaN, infinite or beyond the allowed magnitude. */
    BAD_FEATURE_VALUE,
    /** The event timestamp is negative. */
    NEGATIVE_TIMESTAMP,
    /** The event timestamp is earlier than the key's previous event. */
    OUT_OF_ORDER_TIMESTAMP
}
