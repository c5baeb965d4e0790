package io.spillway.app;

import io.spillway.app.topology.KeyFormat;
import java.util.Objects;

/**
 * The formats of the app's record keys in and out.
 *
 * @param inputKeys how the input's record keys are written ({@link KeyFormat#AUTO}: detected per record)
 * @param inputKeyField dotted path of the entity id in record keys (Avro records, JSON objects); null: their only field
 * @param outputKeys keys of the app's output topics: {@link KeyFormat#TEXT} (UTF-8) or {@link KeyFormat#AVRO} (an Avro
 *        string, for clients that decode every key as Avro)
 */
public record Formats(KeyFormat inputKeys, String inputKeyField, KeyFormat outputKeys) {
    public static final Formats DEFAULTS = new Formats(KeyFormat.AUTO, null, KeyFormat.TEXT);

    public Formats {
        Objects.requireNonNull(inputKeys, "inputKeys");
        Objects.requireNonNull(outputKeys, "outputKeys");
        if (outputKeys != KeyFormat.TEXT && outputKeys != KeyFormat.AVRO) {
            throw new IllegalArgumentException("output keys are text or avro, not " + outputKeys);
        }
    }
}
