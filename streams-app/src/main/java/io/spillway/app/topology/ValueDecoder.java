package io.spillway.app.topology;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.mapping.MappingException;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.UnsupportedSchemaTypeException;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Headers;

/**
 * Turns a record value into an {@link Event}, in the configured {@link ValueFormat}: Spillway's own Event through
 * its specific reader (the path earlier versions had, unchanged), or the user's own record (Avro of any registered
 * schema, JSON) through the {@link FieldMapping}. One per stream task.
 */
final class ValueDecoder {
    /** Confluent's header-carried schema id (a GUID, magic byte 1), with the payload not prefixed. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static {
        // a hostile value nested deeply must not take the stream thread's stack
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    /** What became of a value. */
    sealed interface Result permits Decoded, Refused, RegistryUnavailable {
    }

    record Decoded(Event event) implements Result {
    }

    record Refused(Rejection rejection) implements Result {
    }

    /** The value's writer schema could not be fetched: the record waits for the registry. */
    record RegistryUnavailable(String message) implements Result {
    }

    private final ValueFormat format;
    private final FieldMapping mapping;
    private final SpecificAvroDeserializer<Event> events;
    private final GenericAvroDeserializer avro;
    private final EventLimits limits;
    /** The stream task's dictionary, for a mapping with a dictionary vocabulary (set when the task starts). */
    private FieldMapping.Categories categories;

    /**
     * @param mapping null: values are Events
     * @param avro reads the user's Avro records; may be null without a mapping
     */
    ValueDecoder(final ValueFormat format, final FieldMapping mapping, final SpecificAvroDeserializer<Event> events,
                 final GenericAvroDeserializer avro, final EventLimits limits) {
        this.format = format;
        this.mapping = mapping;
        this.events = events;
        this.avro = avro;
        this.limits = limits;
        if (mapping != null && avro == null && format != ValueFormat.JSON) {
            throw new IllegalArgumentException(format + " values read through a mapping need an Avro deserializer");
        }
    }

    /** Whether the mapping needs the task's dictionary ({@link #useCategories}). */
    boolean usesDictionary() {
        return mapping != null && mapping.usesDictionary();
    }

    /** The dictionary text categories take their ids from (the stream task's, restored from its store). */
    void useCategories(final FieldMapping.Categories dictionary) {
        this.categories = dictionary;
    }

    /**
     * @param key the decoded record key (the entity id, unless the mapping takes it from the value), may be null
     */
    Result decode(final String topic, final Headers headers, final String key, final long recordTimestampMs,
                  final byte[] value) {
        // a __value_schema_id header (Confluent's newer framing) names the writer schema instead of a prefix
        final boolean headerId = GenericAvroDeserializer.namesSchemaInHeader(headers, false);
        return switch (format) {
            case EVENT -> event(topic, headers, value);
            case AVRO -> avro(topic, headers, key, recordTimestampMs, value);
            case JSON -> json(key, recordTimestampMs, value, 0);
            case AUTO -> headerId || GenericAvroDeserializer.looksFramed(value)
                    ? avro(topic, headers, key, recordTimestampMs, value)
                    : looksLikeJson(value) ? json(key, recordTimestampMs, value, 0)
                    : event(topic, headers, value);
        };
    }

    /** Spillway's Event, Confluent-framed: the reasons earlier versions gave. */
    private Result event(final String topic, final Headers headers, final byte[] value) {
        try {
            return new Decoded(events.deserialize(topic, headers, value));
        } catch (final SerdeException e) {
            return failed(e, headers, value, null, -1);
        } catch (final RuntimeException e) {
            return refuse("malformed-avro", e.toString());
        }
    }

    private Result avro(final String topic, final Headers headers, final String key, final long recordTimestampMs,
                        final byte[] value) {
        if (mapping == null) {
            return event(topic, headers, value);
        }
        final Object datum;
        try {
            datum = avro.deserialize(topic, headers, value);
        } catch (final SerdeException e) {
            return failed(e, headers, value, key, recordTimestampMs);
        } catch (final RuntimeException e) {
            return refuse("malformed-avro", e.toString());
        }
        if (!(datum instanceof GenericRecord record)) {
            return refuse("mapping-failed", "value is an Avro " + (datum == null ? "null" : datum.getClass().getSimpleName())
                    + ", not a record: the mapping reads fields of a record");
        }
        return mapped(record, key, recordTimestampMs);
    }

    /** A failed read: the registry's outage waits, a JSON Schema value is read as JSON, the rest is refused. */
    private Result failed(final SerdeException e, final Headers headers, final byte[] value, final String key,
                          final long recordTimestampMs) {
        return switch (e.reason()) {
            case REGISTRY_UNAVAILABLE -> new RegistryUnavailable(e.getMessage());
            case UNSUPPORTED_SCHEMA_TYPE -> {
                final String type = e.getCause() instanceof UnsupportedSchemaTypeException u ? u.schemaType() : "?";
                if (type.equals("JSON") && format != ValueFormat.EVENT) {
                    // Confluent's JSON Schema serializer: the framing (or the header), then the JSON text
                    yield json(key, recordTimestampMs, value,
                            GenericAvroDeserializer.namesSchemaInHeader(headers, false) ? 0 : 5);
                }
                yield refuse("unsupported-value-format", "value schema id " + e.schemaId() + " is a " + type
                        + " schema: " + (type.equals("PROTOBUF") ? "Protobuf values are not supported"
                        : type + " values are not supported") + "; produce Avro or JSON values");
            }
            default -> refuse(ChunkingProcessor.code(e.reason()), e.getMessage());
        };
    }

    private Result json(final String key, final long recordTimestampMs, final byte[] value, final int offset) {
        final JsonNode node;
        try {
            node = JSON.readTree(value, offset, value.length - offset);
        } catch (final IOException | RuntimeException e) {
            return refuse("malformed-json", "value is not one JSON value: " + firstLine(e.getMessage()));
        }
        if (node == null || !node.isObject()) {
            return refuse("malformed-json", "value is not a JSON object");
        }
        // Kafka Connect's JsonConverter with schemas.enable=true
        final JsonNode payload = node.size() == 2 && node.has("schema") && node.has("payload") ? node.get("payload") : node;
        if (!payload.isObject()) {
            return refuse("malformed-json", "the payload of the Kafka Connect envelope is not a JSON object");
        }
        return mapped(payload, key, recordTimestampMs);
    }

    private Result mapped(final Object root, final String key, final long recordTimestampMs) {
        final FieldMapping m = mapping != null ? mapping : FieldMapping.EVENT;
        try {
            return new Decoded(m.map(root, key, recordTimestampMs, limits.vocabularySize(), limits.featureDimension(),
                    categories));
        } catch (final MappingException e) {
            return refuse("mapping-failed", e.getMessage());
        }
    }

    private static boolean looksLikeJson(final byte[] value) {
        for (final byte b : value) {
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                continue;
            }
            return b == '{';
        }
        return false;
    }

    private static String firstLine(final String message) {
        if (message == null) {
            return "";
        }
        final int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private static Result refuse(final String reason, final String message) {
        return new Refused(new Rejection(reason, message));
    }
}
