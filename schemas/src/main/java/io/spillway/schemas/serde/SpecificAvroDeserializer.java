package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.internals.CompatibilityChecker;
import io.spillway.schemas.serde.internals.AvroTrust;
import io.spillway.schemas.serde.internals.HeaderSchemaId;
import io.spillway.schemas.serde.internals.SerdeSettings;
import io.spillway.schemas.serde.internals.WireFormat;
import io.spillway.schemas.serde.internals.WriterSchemas;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent wire-format Avro into a generated record class.
 *
 * <p>The writer schema is fetched by the id in the payload (cached per id) and resolved to the
 * class's schema with Avro schema resolution, so data written with an older or newer compatible
 * schema reads fine. Checks, in this order, each mapped to one {@link SerdeException.Reason}:
 * empty payload: TOO_SHORT; first byte not 0: WRONG_MAGIC_BYTE; fewer than 5 bytes: TOO_SHORT;
 * id not in the registry: UNKNOWN_SCHEMA_ID; registry unreachable, failing or refusing credentials:
 * REGISTRY_UNAVAILABLE; writer schema not readable as the class's schema: INCOMPATIBLE_SCHEMA;
 * body not decodable or with bytes left over: MALFORMED_AVRO.
 *
 * <p>Null bytes deserialize to null (tombstones). Trusts the class's package for Avro's class
 * loading itself (no JVM flag needed). Thread-safe once configured; client ownership as for
 * {@link SpecificAvroSerializer}.
 *
 * @param <T> the generated record class
 */
public class SpecificAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    private final Class<T> type;
    private final Schema readerSchema;
    private final SpecificData model;
    /** By schema id ({@code Integer}) or GUID ({@code UUID}). */
    private final Map<Object, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
    private SchemaRegistryClient client;
    private boolean ownsClient;
    private boolean isKey;

    /**
     * For Kafka's reflective creation; call {@link #configure} before use.
     *
     * @param type the generated record class
     */
    public SpecificAvroDeserializer(final Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
        AvroTrust.trustPackageOf(type);
        this.model = SpecificData.getForClass(type);
        this.readerSchema = model.getSchema(type);
    }

    /**
     * Ready to use with the given client (not closed by this deserializer).
     *
     * @param type the generated record class
     * @param client the registry client
     * @param isKey whether it deserializes record keys (the subject is not needed to read; kept for symmetry)
     */
    public SpecificAvroDeserializer(final Class<T> type, final SchemaRegistryClient client, final boolean isKey) {
        this(type);
        this.client = Objects.requireNonNull(client, "client");
        this.isKey = isKey;
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        this.isKey = isKey;
        if (client == null) {
            client = SerdeSettings.client(configs);
            ownsClient = true;
        }
    }

    @Override
    public T deserialize(final String topic, final byte[] data) {
        return deserialize(topic, null, data);
    }

    /**
     * Reads the record, its writer schema named by a {@code __value_schema_id} header (a GUID or an id, Confluent's
     * newer framing: the bytes are then the Avro body alone) or else by the id before the body.
     */
    @Override
    public T deserialize(final String topic, final org.apache.kafka.common.header.Headers headers, final byte[] data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("SpecificAvroDeserializer used before configure()");
        }
        final Object fromHeader = HeaderSchemaId.read(headers, isKey, topic);
        if (fromHeader == null) {
            if (data.length == 0) {
                throw tooShort(topic, data);
            }
            if (data[0] != WireFormat.MAGIC_BYTE) {
                throw new SerdeException(SerdeException.Reason.WRONG_MAGIC_BYTE, -1,
                    String.format("wrong magic byte 0x%02x at offset 0: not Confluent Avro wire format (expected 0x00)%s",
                        data[0] & 0xff, onTopic(topic)), null);
            }
            if (data.length < WireFormat.HEADER_SIZE) {
                throw tooShort(topic, data);
            }
        }
        final Object ref = fromHeader != null ? fromHeader : (Object) WireFormat.readSchemaId(data);
        final int offset = fromHeader != null ? 0 : WireFormat.HEADER_SIZE;
        final SpecificDatumReader<T> reader = readers.computeIfAbsent(ref, k -> readerFor(k, topic));
        final BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, offset, data.length - offset, null);
        final T record;
        try {
            record = reader.read(null, decoder);
        } catch (final IOException | RuntimeException e) {
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, WriterSchemas.idOf(ref),
                "malformed Avro body for " + WriterSchemas.describe(ref)
                + " (" + reader.getSchema().getFullName() + ")" + onTopic(topic) + ": " + e, e);
        }
        final boolean fullyRead;
        try {
            fullyRead = decoder.isEnd();
        } catch (final IOException e) {
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, WriterSchemas.idOf(ref),
                "cannot check end of Avro body for "
                + WriterSchemas.describe(ref) + onTopic(topic) + ": " + e, e);
        }
        if (!fullyRead) {
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, WriterSchemas.idOf(ref),
                "malformed Avro body for " + WriterSchemas.describe(ref)
                + onTopic(topic) + ": bytes left over after the record (payload of " + data.length + " bytes)", null);
        }
        return record;
    }

    private SpecificDatumReader<T> readerFor(final Object ref, final String topic) {
        final Schema writerSchema = WriterSchemas.fetch(client, ref, topic);
        final int id = WriterSchemas.idOf(ref);
        final List<String> problems = CompatibilityChecker.readProblems(readerSchema, writerSchema);
        if (!problems.isEmpty()) {
            throw new SerdeException(SerdeException.Reason.INCOMPATIBLE_SCHEMA, id,
                "writer " + WriterSchemas.describe(ref) + " (" + writerSchema.getFullName() + ") cannot be read as "
                    + type.getName() + onTopic(topic) + ": " + String.join("; ", problems), null);
        }
        return new SpecificDatumReader<>(writerSchema, readerSchema, model);
    }

    private static SerdeException tooShort(final String topic, final byte[] data) {
        return new SerdeException(SerdeException.Reason.TOO_SHORT, -1, "payload of " + data.length
            + " bytes is too short for Confluent Avro wire format (needs at least " + WireFormat.HEADER_SIZE
            + ": magic byte 0x00 and a 4-byte schema id)" + onTopic(topic), null);
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
