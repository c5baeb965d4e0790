package io.spillway.schemas.serde;

import io.spillway.schemas.registry.IncompatibleSchemaException;
import io.spillway.schemas.registry.InvalidSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.TopicNameStrategy;
import io.spillway.schemas.registry.internals.CompatibilityChecker;
import io.spillway.schemas.serde.internals.SerdeSettings;
import io.spillway.schemas.serde.internals.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes a generated Avro record in Confluent's wire format: magic byte 0, the 4-byte big-endian
 * schema id, the Avro binary body. The subject is {@code <topic>-value} (or {@code -key}).
 *
 * <p>By default the record's own schema is registered under the subject on first use per topic (then
 * cached: the hot path makes no registry call). With {@code auto.register.schemas=false} the schema
 * must already be registered; with {@code use.latest.version=true} the subject's latest version (read
 * once per topic) is used as the writer schema and the record is converted to it.
 *
 * <p>A null record serializes to null (a tombstone). Failures throw {@link SerdeException}.
 * Thread-safe once configured. When created from configs the serializer owns its registry client and
 * closes it in {@link #close()}; a client passed to the constructor stays the caller's.
 *
 * @param <T> the generated record class
 */
public class SpecificAvroSerializer<T extends SpecificRecord> implements Serializer<T> {
    private final Class<T> type;
    private final Schema schema;
    private final SpecificData model;
    private final DatumWriter<T> writer;
    private final Map<String, TopicWriter> topics = new ConcurrentHashMap<>();
    /**
     * A buffered encoder per thread, re-aimed at each record's stream: it writes its buffer out in bulk (the direct
     * encoder made a synchronized stream call per int and float), and reusing it saves allocating that buffer.
     */
    private static final ThreadLocal<BinaryEncoder> ENCODERS = new ThreadLocal<>();
    /** Size of the last record written: the next one's buffer starts there instead of growing by doubling. */
    private volatile int lastSize = 128;
    private SchemaRegistryClient client;
    private boolean ownsClient;
    private boolean isKey;
    private SerdeSettings settings = SerdeSettings.DEFAULTS;

    /**
     * For Kafka's reflective creation; call {@link #configure} before use.
     *
     * @param type the generated record class
     */
    public SpecificAvroSerializer(final Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.writer = new SpecificDatumWriter<>(schema, customCoders(model, type));
    }

    /**
     * Ready to use with the given client (not closed by this serializer), auto-registering the
     * record's own schema. {@link #configure} may still be called to change the settings.
     *
     * @param type the generated record class
     * @param client the registry client
     * @param isKey whether it serializes record keys
     */
    public SpecificAvroSerializer(final Class<T> type, final SchemaRegistryClient client, final boolean isKey) {
        this(type);
        this.client = Objects.requireNonNull(client, "client");
        this.isKey = isKey;
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        this.isKey = isKey;
        this.settings = SerdeSettings.from(configs);
        if (client == null) {
            client = SerdeSettings.client(configs);
            ownsClient = true;
        }
        topics.clear();
    }

    @Override
    public byte[] serialize(final String topic, final T data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("SpecificAvroSerializer used before configure()");
        }
        final TopicWriter target = topics.computeIfAbsent(Objects.requireNonNull(topic, "topic"), this::resolve);
        final ByteArrayOutputStream out = new ByteArrayOutputStream(lastSize);
        out.write(new byte[WireFormat.HEADER_SIZE], 0, WireFormat.HEADER_SIZE);
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, ENCODERS.get());
        ENCODERS.set(encoder);
        try {
            target.write(data, encoder);
            encoder.flush();
        } catch (final IOException | RuntimeException e) {
            throw new SerdeException(SerdeException.Reason.MALFORMED_AVRO, target.schemaId,
                "cannot write " + type.getName() + " for topic '" + topic + "': record does not match its schema: "
                    + e, e);
        }
        final byte[] bytes = out.toByteArray();
        WireFormat.writeHeader(bytes, target.schemaId);
        lastSize = Math.max(128, bytes.length);
        return bytes;
    }

    /**
     * The record's model with the generated classes' own encoders turned on: they write the same bytes as the
     * generic writer (always in the record's own schema; a conversion to another writer schema re-encodes
     * afterwards), without resolving the schema per field and per array item. A copy, so the class's shared
     * model is left as it is.
     */
    private static SpecificData customCoders(final SpecificData shared, final Class<?> type) {
        final SpecificData own = new SpecificData(type.getClassLoader());
        shared.getConversions().forEach(own::addLogicalTypeConversion);
        own.setCustomCoders(true);
        return own;
    }

    private TopicWriter resolve(final String topic) {
        final String subject = TopicNameStrategy.subject(topic, isKey);
        try {
            if (settings.useLatestVersion()) {
                return latestWriter(subject);
            }
            if (settings.autoRegister()) {
                return new TopicWriter(client.register(subject, schema), writer, null);
            }
            final Optional<RegisteredSchema> found = client.lookup(subject, schema);
            if (found.isEmpty()) {
                throw new SerdeException(SerdeException.Reason.UNKNOWN_SCHEMA_ID, -1, "schema of " + type.getName()
                    + " is not registered under subject '" + subject + "' and auto.register.schemas=false");
            }
            return new TopicWriter(found.get().id(), writer, null);
        } catch (final IncompatibleSchemaException | InvalidSchemaException e) {
            throw new SerdeException(SerdeException.Reason.INCOMPATIBLE_SCHEMA, -1, "schema of " + type.getName()
                + " rejected by the registry for subject '" + subject + "': " + e.getMessage(), e);
        } catch (final SchemaRegistryException e) {
            throw new SerdeException(SerdeException.Reason.REGISTRY_UNAVAILABLE, -1,
                "schema registry unavailable while resolving subject '" + subject + "': " + e.getMessage(), e);
        }
    }

    private TopicWriter latestWriter(final String subject) {
        final RegisteredSchema latest = client.latest(subject).orElseThrow(() -> new SerdeException(
            SerdeException.Reason.UNKNOWN_SCHEMA_ID, -1,
            "use.latest.version=true but subject '" + subject + "' has no registered version"));
        if (latest.schema().toString().equals(schema.toString())) {
            return new TopicWriter(latest.id(), writer, null);
        }
        final List<String> problems = CompatibilityChecker.readProblems(latest.schema(), schema);
        if (!problems.isEmpty()) {
            throw new SerdeException(SerdeException.Reason.INCOMPATIBLE_SCHEMA, latest.id(),
                "latest version " + latest.version() + " (id " + latest.id() + ") of subject '" + subject
                    + "' cannot represent " + type.getName() + ": " + String.join("; ", problems), null);
        }
        return new TopicWriter(latest.id(), writer, new Converter(schema, latest.schema()));
    }

    @Override
    public void close() {
        if (ownsClient && client != null) {
            client.close();
        }
    }

    /** The schema id and writing strategy chosen for one topic. */
    private final class TopicWriter {
        final int schemaId;
        final DatumWriter<T> own;
        final Converter converter;

        TopicWriter(final int schemaId, final DatumWriter<T> own, final Converter converter) {
            this.schemaId = schemaId;
            this.own = own;
            this.converter = converter;
        }

        void write(final T record, final BinaryEncoder encoder) throws IOException {
            if (converter == null) {
                own.write(record, encoder);
            } else {
                converter.write(record, own, encoder);
            }
        }
    }

    /** Re-encodes a record written with its own schema into another (compatible) schema via Avro resolution. */
    private static final class Converter {
        private final GenericDatumReader<Object> resolver;
        private final GenericDatumWriter<Object> target;

        Converter(final Schema own, final Schema latest) {
            this.resolver = new GenericDatumReader<>(own, latest, GenericData.get());
            this.target = new GenericDatumWriter<>(latest, GenericData.get());
        }

        <R> void write(final R record, final DatumWriter<R> own, final BinaryEncoder encoder) throws IOException {
            final ByteArrayOutputStream buffer = new ByteArrayOutputStream(128);
            final BinaryEncoder ownEncoder = EncoderFactory.get().directBinaryEncoder(buffer, null);
            own.write(record, ownEncoder);
            ownEncoder.flush();
            final Object converted = resolver.read(null,
                DecoderFactory.get().binaryDecoder(buffer.toByteArray(), null));
            target.write(converted, encoder);
        }
    }
}
