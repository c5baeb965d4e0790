package io.spillway.app.topology;

import java.util.Locale;

/**
 * How the input's record keys are written. Every key ends up as the entity id, a text.
 */
public enum KeyFormat {
    /** Per record: Confluent-framed Avro when it starts with the magic byte, else JSON when it parses, else text. */
    AUTO,
    /** UTF-8 text without NUL characters (Kafka's StringSerializer). */
    TEXT,
    /** Confluent-framed Avro: a string, a number, or a record whose key field is read ({@code --key-field}). */
    AVRO,
    /** JSON: a string, a number, an object whose key field is read, or Kafka Connect's {@code {schema, payload}}. */
    JSON;

    public static KeyFormat parse(final String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException("key format must be auto, text, avro or json: " + name, e);
        }
    }
}
