package io.spillway.app.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.apache.kafka.common.header.Headers;

/**
 * Turns a record key into the entity id, in the configured {@link KeyFormat}. Keys that name an entity in a record
 * (Debezium's primary-key records, ksqlDB's {@code KEY_FORMAT='AVRO'}, a JSON object) give the field {@code keyField}
 * (a dotted path), or their only field when none is named. One per stream task (not thread-safe through its Avro
 * deserializer's owner, which is shared per task).
 */
final class KeyDecoder {
    /** Rejects trailing content: a key is one JSON value. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** What became of a key. */
    sealed interface Result permits Decoded, Refused, RegistryUnavailable {
    }

    /** @param key the entity id, or null for a record without key */
    record Decoded(String key) implements Result {
    }

    record Refused(Rejection rejection) implements Result {
    }

    /** The key's writer schema could not be fetched: the record waits for the registry. */
    record RegistryUnavailable(String message) implements Result {
    }

    private final KeyFormat format;
    private final String[] path;
    private final GenericAvroDeserializer avro;

    /**
     * @param keyField dotted path of the entity id inside record keys, or null for their only field
     * @param avro reads Avro keys; may be null for {@link KeyFormat#TEXT} and {@link KeyFormat#JSON}
     */
    KeyDecoder(final KeyFormat format, final String keyField, final GenericAvroDeserializer avro) {
        this.format = format;
        this.path = keyField == null || keyField.isBlank() ? null : keyField.split("\\.");
        this.avro = avro;
        if (avro == null && (format == KeyFormat.AUTO || format == KeyFormat.AVRO)) {
            throw new IllegalArgumentException(format + " keys need an Avro deserializer");
        }
    }

    Result decode(final String topic, final byte[] key) {
        return decode(topic, null, key);
    }

    /** @param headers the record's, for a {@code __key_schema_id} header (Confluent's newer framing); may be null */
    Result decode(final String topic, final Headers headers, final byte[] key) {
        if (key == null || key.length == 0) {
            return new Decoded(null);
        }
        return switch (format) {
            case TEXT -> text(key);
            case AVRO -> avro(topic, headers, key);
            case JSON -> json(key);
            case AUTO -> GenericAvroDeserializer.namesSchemaInHeader(headers, true)
                    || GenericAvroDeserializer.looksFramed(key) ? avro(topic, headers, key)
                    : looksLikeJson(key) ? jsonOrText(key) : text(key);
        };
    }

    private static Result text(final byte[] key) {
        final String s = decodeText(key);
        return s != null ? new Decoded(s) : refuse("invalid-key", "record key is not UTF-8 text without NUL characters");
    }

    private Result avro(final String topic, final Headers headers, final byte[] key) {
        final Object value;
        try {
            value = avro.deserialize(topic, headers, key);
        } catch (final SerdeException e) {
            if (e.reason() == SerdeException.Reason.REGISTRY_UNAVAILABLE) {
                return new RegistryUnavailable(e.getMessage());
            }
            return refuse("invalid-key", "record key is not readable Avro: " + e.getMessage());
        }
        return entityId(value, "Avro key");
    }

    private Result json(final byte[] key) {
        final JsonNode node = parseJson(key);
        return node == null ? refuse("invalid-key", "record key is not JSON") : jsonEntityId(node);
    }

    /** Auto: a key that starts like JSON but does not parse as JSON is text. */
    private Result jsonOrText(final byte[] key) {
        final JsonNode node = parseJson(key);
        return node == null ? text(key) : jsonEntityId(node);
    }

    private Result jsonEntityId(final JsonNode node) {
        // Kafka Connect's JsonConverter with schemas: {"schema": ..., "payload": ...}
        final JsonNode payload = node.isObject() && node.size() == 2 && node.has("schema") && node.has("payload")
                ? node.get("payload") : node;
        return entityId(payload, "JSON key");
    }

    /** The parsed key, or null when it is not (exactly one) JSON value. */
    private static JsonNode parseJson(final byte[] key) {
        try {
            final JsonNode node = JSON.readTree(key);
            return node == null || node.isMissingNode() ? null : node;
        } catch (final java.io.IOException e) {
            return null;
        }
    }

    private static boolean looksLikeJson(final byte[] key) {
        final byte first = key[0];
        return first == '{' || first == '"';
    }

    /** The entity id inside a decoded key: the value itself, or the key field of a record. */
    private Result entityId(final Object value, final String what) {
        Object v = value;
        if (v instanceof GenericRecord || v instanceof JsonNode n && n.isObject()) {
            if (path == null) {
                final int fields = v instanceof GenericRecord r ? r.getSchema().getFields().size() : ((JsonNode) v).size();
                if (fields != 1) {
                    return refuse("invalid-key", what + " is a record of " + fields
                            + " fields: name the entity id's field with --key-field");
                }
                v = v instanceof GenericRecord r ? r.get(0) : ((JsonNode) v).elements().next();
            } else {
                for (final String field : path) {
                    if (v instanceof GenericRecord r && r.getSchema().getField(field) != null) {
                        v = r.get(field);
                    } else if (v instanceof JsonNode n && n.isObject() && n.has(field)) {
                        v = n.get(field);
                    } else {
                        return refuse("invalid-key", what + " has no field '" + String.join(".", path) + "'");
                    }
                }
            }
        }
        final String id = scalar(v);
        if (id == null) {
            return refuse("invalid-key", what + " holds no text or number for the entity id");
        }
        if (id.isEmpty() || id.indexOf('\u0000') >= 0) {
            return refuse("invalid-key", what + " gives an empty entity id or one with NUL characters");
        }
        return new Decoded(id);
    }

    private static String scalar(final Object v) {
        if (v instanceof Utf8 || v instanceof CharSequence) {
            return v.toString();
        }
        if (v instanceof Integer || v instanceof Long) {
            return v.toString();
        }
        if (v instanceof JsonNode n && (n.isTextual() || n.isIntegralNumber())) {
            return n.asText();
        }
        if (v instanceof org.apache.avro.generic.GenericData.EnumSymbol e) {
            return e.toString();
        }
        return null;
    }

    private static Result refuse(final String reason, final String message) {
        return new Refused(new Rejection(reason, message));
    }

    /** The key as text, or null when not UTF-8 or containing NUL (the event-store separator). */
    static String decodeText(final byte[] key) {
        boolean ascii = true;
        for (final byte b : key) {
            if (b <= 0) { // NUL, or not ASCII
                ascii = false;
                break;
            }
        }
        if (ascii) { // the common case, without a decoder per record
            return new String(key, StandardCharsets.US_ASCII);
        }
        try {
            final String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key)).toString();
            return s.indexOf('\u0000') >= 0 ? null : s;
        } catch (final CharacterCodingException e) {
            return null;
        }
    }
}
