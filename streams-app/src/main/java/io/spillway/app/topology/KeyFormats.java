package io.spillway.app.topology;

import io.spillway.schemas.serde.GenericAvroDeserializer;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How the topology reads record keys into entity ids.
 *
 * @param format the keys' format
 * @param field dotted path of the entity id in record keys (Avro records, JSON objects); null: their only field
 * @param avro makes the Avro reader of one stream task (for {@link KeyFormat#AUTO} and {@link KeyFormat#AVRO})
 */
public record KeyFormats(KeyFormat format, String field, Supplier<GenericAvroDeserializer> avro) {
    /** UTF-8 text keys only, as earlier versions read them. */
    public static final KeyFormats TEXT = new KeyFormats(KeyFormat.TEXT, null, () -> null);

    public KeyFormats {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(avro, "avro");
    }

    KeyDecoder decoder() {
        return new KeyDecoder(format, field, format == KeyFormat.AUTO || format == KeyFormat.AVRO ? avro.get() : null);
    }
}
