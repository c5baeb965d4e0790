package io.spillway.app;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.ValueFormat;
import java.util.Objects;

/**
 * The formats of the app's records in and out.
 *
 * @param inputKeys how the input's record keys are written ({@link KeyFormat#AUTO}: detected per record)
 * @param inputKeyField dotted path of the entity id in record keys (Avro records, JSON objects); null: their only field
 * @param outputKeys keys of the app's output topics: {@link KeyFormat#TEXT} (UTF-8) or {@link KeyFormat#AVRO} (an Avro
 *        string, for clients that decode every key as Avro)
 * @param inputValues how the input's record values are written ({@link ValueFormat#AUTO}: detected per record)
 * @param mapping where the learner's inputs are in the user's own records; null: values are Spillway's Event
 */
public record Formats(KeyFormat inputKeys, String inputKeyField, KeyFormat outputKeys, ValueFormat inputValues,
                      FieldMapping mapping) {
    public static final Formats DEFAULTS = new Formats(KeyFormat.AUTO, null, KeyFormat.TEXT);

    public Formats {
        Objects.requireNonNull(inputKeys, "inputKeys");
        Objects.requireNonNull(outputKeys, "outputKeys");
        Objects.requireNonNull(inputValues, "inputValues");
        if (outputKeys != KeyFormat.TEXT && outputKeys != KeyFormat.AVRO) {
            throw new IllegalArgumentException("output keys are text or avro, not " + outputKeys);
        }
        if (mapping != null && inputValues == ValueFormat.EVENT) {
            throw new IllegalArgumentException("a field mapping reads the user's own records: it needs value format "
                    + "auto, avro or json, not event");
        }
    }

    /** Values detected per record, Spillway's Event without a mapping. */
    public Formats(final KeyFormat inputKeys, final String inputKeyField, final KeyFormat outputKeys) {
        this(inputKeys, inputKeyField, outputKeys, ValueFormat.AUTO, null);
    }

    /** The same with the values read in the given format through the given mapping (null: Event values). */
    public Formats withValues(final ValueFormat format, final FieldMapping fieldMapping) {
        return new Formats(inputKeys, inputKeyField, outputKeys, format, fieldMapping);
    }
}
