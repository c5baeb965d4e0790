package io.spillway.app.topology;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How the topology reads record values into events.
 *
 * @param format the values' format
 * @param mapping where the learner's inputs are in the user's record; null: values are Spillway's {@code Event} (as
 *        Avro, or its fields as a JSON object)
 * @param avro makes the generic Avro reader of one stream task (for values read through a mapping)
 */
public record ValueFormats(ValueFormat format, FieldMapping mapping, Supplier<GenericAvroDeserializer> avro) {
    /** Spillway's Event schema only, as earlier versions read values. */
    public static final ValueFormats EVENT = new ValueFormats(ValueFormat.EVENT, null, () -> null);

    public ValueFormats {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(avro, "avro");
        if (mapping != null && format == ValueFormat.EVENT) {
            throw new IllegalArgumentException("a field mapping reads the user's own records: it needs value format "
                    + "auto, avro or json, not event");
        }
    }

    /** Whether each record's entity id is its key (so a record without key is refused before its value is read). */
    boolean entityFromKey() {
        return mapping == null || mapping.entityFromKey();
    }

    ValueDecoder decoder(final SpecificAvroDeserializer<Event> events, final EventLimits limits) {
        return new ValueDecoder(format, mapping, events, mapping != null ? avro.get() : null, limits);
    }
}
