package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnsupportedSchemaTypeException;
import io.spillway.schemas.serde.internals.SerdeSettings;
import io.spillway.schemas.serde.internals.WireFormat;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-framed Avro of any registered schema into Avro's generic representation (a
 * {@link org.apache.avro.generic.GenericRecord}, a {@link org.apache.avro.util.Utf8}, a boxed number, ...), with the
 * writer's schema fetched by id and cached. Fails with the same {@link SerdeException} reasons as
 * {@link SpecificAvroDeserializer}: {@link SerdeException.Reason#REGISTRY_UNAVAILABLE} is transient, the others are
 * properties of the data. Thread-safe once configured.
 */
public final class GenericAvroDeserializer implements Deserializer<Object> {
    private final Map<Integer, GenericDatumReader<Object>> readers = new ConcurrentHashMap<>();
    private SchemaRegistryClient client;
    private boolean ownsClient;

    /** Configured later with {@link #configure} (the registry URL and its settings). */
    public GenericAvroDeserializer() {
    }

    /** Ready to use with the given client (not closed by this deserializer). */
    public GenericAvroDeserializer(final SchemaRegistryClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        if (client == null) {
            client = SerdeSettings.client(configs);
            ownsClient = true;
        }
    }

    /** Whether {@code data} starts like Confluent-framed Avro (the magic byte and room for a schema id). */
    public static boolean looksFramed(final byte[] data) {
        return data != null && data.length >= WireFormat.HEADER_SIZE && data[0] == WireFormat.MAGIC_BYTE;
    }

    @Override
    public Object deserialize(final String topic, final byte[] data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("GenericAvroDeserializer used before configure()");
        }
        if (!looksFramed(data)) {
            throw new SerdeException(data.length > 0 && data[0] != WireFormat.MAGIC_BYTE
                    ? SerdeException.Reason.WRONG_MAGIC_BYTE : SerdeException.Reason.TOO_SHORT, -1,
                    "not Confluent Avro wire format (magic byte 0x00 and a 4-byte schema id)" + onTopic(topic), null);
        }
        final int id = WireFormat.readSchemaId(data);
        final GenericDatumReader<Object> reader = readers.computeIfAbsent(id, k -> readerFor(k, topic));
        final BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE,
                data.length - WireFormat.HEADER_SIZE, null);
        try {
            final Object value = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, id, "malformed Avro body for schema id "
                        + id + onTopic(topic) + ": bytes left over after the value", null);
            }
            return value;
        } catch (final IOException | RuntimeException e) {
            if (e instanceof SerdeException s) {
                throw s;
            }
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, id, "malformed Avro body for schema id "
                    + id + onTopic(topic) + ": " + e, e);
        }
    }

    private GenericDatumReader<Object> readerFor(final int id, final String topic) {
        try {
            return new GenericDatumReader<>(client.getById(id));
        } catch (final UnknownSchemaException e) {
            throw new SerdeException(SerdeException.Reason.UNKNOWN_SCHEMA_ID, id,
                    "schema id " + id + " is not known to the schema registry" + onTopic(topic) + ": " + e.getMessage(), e);
        } catch (final UnsupportedSchemaTypeException e) {
            throw new SerdeException(SerdeException.Reason.UNSUPPORTED_SCHEMA_TYPE, id,
                "schema id " + id + " is a " + e.schemaType() + " schema, not Avro" + onTopic(topic), e);
        } catch (final SchemaRegistryException e) {
            throw new SerdeException(SerdeException.Reason.REGISTRY_UNAVAILABLE, id,
                    "cannot fetch schema id " + id + " from the schema registry" + onTopic(topic) + ": " + e.getMessage(), e);
        }
    }

    private static String onTopic(final String topic) {
        return topic == null ? "" : " on topic '" + topic + "'";
    }

    @Override
    public void close() {
        if (ownsClient && client != null) {
            client.close();
        }
    }
}
