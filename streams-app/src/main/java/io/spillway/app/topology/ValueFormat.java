package io.spillway.app.topology;

import java.util.Locale;

/** How the input's record values are written. */
public enum ValueFormat {
    /**
     * Per record: a schema id in a {@code __value_schema_id} header is refused (not supported yet); Confluent-framed
     * bytes are Avro (or JSON Schema, read as JSON); bytes starting with '{' are JSON; anything else is read as
     * {@link #EVENT} and refused with that format's reason.
     */
    AUTO,
    /** Spillway's own {@code Event} schema, Confluent-framed Avro, as earlier versions read values. */
    EVENT,
    /** Confluent-framed Avro of any registered schema, read through the field mapping (or as an Event without one). */
    AVRO,
    /** JSON objects, plain or in Kafka Connect's {@code {"schema": ..., "payload": ...}} envelope. */
    JSON;

    public static ValueFormat parse(final String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException("value format must be auto, event, avro or json: " + name, e);
        }
    }
}
