package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.internals.HeaderSchemaId;
import io.spillway.schemas.serde.internals.SerdeSettings;
import io.spillway.schemas.serde.internals.WireFormat;
import io.spillway.schemas.serde.internals.WriterSchemas;
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
 * writer's schema fetched by id (or by the GUID of a {@code __value_schema_id} header) and cached. Fails with the same {@link SerdeException} reasons as
 * {@link SpecificAvroDeserializer}: {@link SerdeException.Reason#REGISTRY_UNAVAILABLE} is transient, the others are
 * properties of the data. Thread-safe once configured.
 */
public final class GenericAvroDeserializer implements Deserializer<Object> {
    /** By schema id ({@code Integer}) or GUID ({@code UUID}). */
    private final Map<Object, GenericDatumReader<Object>> readers = new ConcurrentHashMap<>();
    private SchemaRegistryClient client;
    private boolean ownsClient;
    private boolean isKey;

    /** Configured later with {@link #configure} (the registry URL and its settings). */
    public GenericAvroDeserializer() {
    }

    /** Ready to use with the given client (not closed by this deserializer). */
    public GenericAvroDeserializer(final SchemaRegistryClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        this.isKey = isKey;
        if (client == null) {
            client = SerdeSettings.client(configs);
            ownsClient = true;
        }
    }

    /** Whether {@code data} starts like Confluent-framed Avro (the magic byte and room for a schema id). */
    public static boolean looksFramed(final byte[] data) {
        return data != null && data.length >= WireFormat.HEADER_SIZE && data[0] == WireFormat.MAGIC_BYTE;
    }

    /** Whether the record names its writer schema in a {@code __value_schema_id} header (or the key's). */
    public static boolean namesSchemaInHeader(final org.apache.kafka.common.header.Headers headers,
                                              final boolean isKey) {
        return HeaderSchemaId.present(headers, isKey);
    }

    @Override
    public Object deserialize(final String topic, final byte[] data) {
        return deserialize(topic, null, data);
    }

    /**
     * Reads the record, its writer schema named by a {@code __value_schema_id} header (a GUID or an id, Confluent's
     * newer framing, the bytes then being the Avro body alone) or else by the id before the body.
     */
    @Override
    public Object deserialize(final String topic, final org.apache.kafka.common.header.Headers headers,
                              final byte[] data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("GenericAvroDeserializer used before configure()");
        }
        final Object fromHeader = HeaderSchemaId.read(headers, isKey, topic);
        if (fromHeader == null && !looksFramed(data)) {
            throw new SerdeException(data.length > 0 && data[0] != WireFormat.MAGIC_BYTE
                    ? SerdeException.Reason.WRONG_MAGIC_BYTE : SerdeException.Reason.TOO_SHORT, -1,
                    "not Confluent Avro wire format (magic byte 0x00 and a 4-byte schema id)" + onTopic(topic), null);
        }
        final Object ref = fromHeader != null ? fromHeader : (Object) WireFormat.readSchemaId(data);
        final int body = fromHeader != null ? 0 : WireFormat.HEADER_SIZE;
        final int id = WriterSchemas.idOf(ref);
        final GenericDatumReader<Object> reader = readers.computeIfAbsent(ref,
                k -> new GenericDatumReader<>(WriterSchemas.fetch(client, k, topic)));
        final BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, body, data.length - body, null);
        try {
            final Object value = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, id, "malformed Avro body for "
                        + WriterSchemas.describe(ref) + onTopic(topic) + ": bytes left over after the value", null);
            }
            return value;
        } catch (final IOException | RuntimeException e) {
            if (e instanceof SerdeException s) {
                throw s;
            }
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, id, "malformed Avro body for "
                    + WriterSchemas.describe(ref) + onTopic(topic) + ": " + e, e);
        }
    }

    private static String onTopic(final String topic) {
        return WriterSchemas.onTopic(topic);
    }

    @Override
    public void close() {
        if (ownsClient && client != null) {
            client.close();
        }
    }
}
