package io.spillway.app.topology;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.util.Objects;
import org.apache.kafka.common.header.Headers;

/**
 * Reads one input record's key and value into Spillway's {@link Event} the way the training topology does (the key
 * format, the value format and the field mapping), for readers outside the topology, such as {@code serve}'s scorer:
 * a topic the app trains on can be scored as it is. Unlike the topology it does not wait for an unreachable schema
 * registry; such a record is refused as {@code registry-unavailable}. Text categories of a dictionary vocabulary take
 * the ids of the trainer's published dictionary, given to the reader: it assigns none.
 *
 * <p>Not thread-safe (its deserializers cache schemas): one reader per thread.
 */
public final class InputReader {
    /** What became of a record. */
    public sealed interface Outcome permits Read, Refused {
    }

    /** @param entityId the entity the event belongs to (the key, or the mapping's entity field) */
    public record Read(String entityId, Event event) implements Outcome {
    }

    public record Refused(Rejection rejection) implements Outcome {
    }

    private final KeyDecoder keys;
    private final ValueDecoder values;
    private final boolean entityFromKey;

    /**
     * @throws IllegalArgumentException for a mapping with a dictionary vocabulary: its ids belong to the training
     *         app's stream task; read such a topic with the published dictionary (the other constructor)
     */
    public InputReader(final KeyFormats keyFormats, final ValueFormats valueFormats,
                       final SpecificAvroDeserializer<Event> events, final EventLimits limits) {
        this(keyFormats, valueFormats, events, limits, null);
    }

    /**
     * @param categories for a mapping with a dictionary vocabulary, the ids of text categories: read-only, the
     *        published dictionary's (a reader outside the topology gives no ids); null without a dictionary
     * @throws IllegalArgumentException for a mapping with a dictionary vocabulary and no {@code categories}
     */
    public InputReader(final KeyFormats keyFormats, final ValueFormats valueFormats,
                       final SpecificAvroDeserializer<Event> events, final EventLimits limits,
                       final FieldMapping.Categories categories) {
        Objects.requireNonNull(keyFormats, "keyFormats");
        Objects.requireNonNull(valueFormats, "valueFormats");
        this.keys = keyFormats.decoder();
        this.values = valueFormats.decoder(Objects.requireNonNull(events, "events"), limits);
        this.entityFromKey = valueFormats.entityFromKey();
        if (values.usesDictionary()) {
            if (categories == null) {
                throw new IllegalArgumentException("a mapping with a dictionary vocabulary needs the trainer's"
                        + " published dictionary to read text categories (its ids are the training app's)");
            }
            values.useCategories(categories);
        }
    }

    public Outcome read(final String topic, final Headers headers, final byte[] key, final long timestampMs,
                        final byte[] value) {
        final KeyDecoder.Result decodedKey = keys.decode(topic, headers, key);
        if (decodedKey instanceof KeyDecoder.Refused refused) {
            return new Refused(refused.rejection());
        }
        if (decodedKey instanceof KeyDecoder.RegistryUnavailable unavailable) {
            return new Refused(new Rejection("registry-unavailable", unavailable.message()));
        }
        final String entity = ((KeyDecoder.Decoded) decodedKey).key();
        if (value == null) {
            return new Refused(new Rejection("null-value", "record has no value (tombstone) for key " + entity));
        }
        if (entity == null && entityFromKey) {
            return new Refused(new Rejection("missing-key", "record has no key; the key must be the entity id"));
        }
        final ValueDecoder.Result decoded = values.decode(topic, headers, entity, timestampMs, value);
        return switch (decoded) {
            case ValueDecoder.Refused refused -> new Refused(refused.rejection());
            case ValueDecoder.RegistryUnavailable unavailable ->
                    new Refused(new Rejection("registry-unavailable", unavailable.message()));
            case ValueDecoder.Decoded ok -> new Read(entityFromKey ? entity : ok.event().getEntityId().toString(),
                    ok.event());
        };
    }
}
