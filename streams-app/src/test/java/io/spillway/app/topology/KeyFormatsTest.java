package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.serde.AvroStringSerializer;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Record keys as the clients users have write them (Confluent's AvroProducer always frames keys as Avro; Debezium and
 * ksqlDB key by Avro records; Kafka Connect's JsonConverter writes JSON): each becomes the entity id.
 */
class KeyFormatsTest {
    private static final String SCOPE = "key-formats-test";
    private static final String REGISTRY = "mock://" + SCOPE;
    private final Topics topics = Topics.defaults();
    private final PipelineCounters counters = new PipelineCounters();
    private final SpecificAvroSerializer<Event> values = new SpecificAvroSerializer<>(Event.class);
    @TempDir
    Path dir;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;

    private void start(final KeyFormat format, final String keyField) {
        values.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "key-formats-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
            return d;
        }, new KeyFormats(format, keyField, () -> {
            final GenericAvroDeserializer d = new GenericAvroDeserializer();
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), true);
            return d;
        }), new EventLimits(8, 16, 4, 4096), counters, 64, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                p -> -1, p -> -1), props);
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic(topics.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
        SchemaRegistryClients.dropMockScope(SCOPE);
    }

    private byte[] value(final String entity) {
        return values.serialize(topics.events(), Event.newBuilder().setEntityId(entity).setTimestampMs(1)
                .setEventType(1).setFeatures(SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build())
                .setLabel(null).build());
    }

    private void send(final byte[] key, final String entity) {
        input.pipeInput(key, value(entity));
    }

    private List<String> reasons() {
        return dlq.readRecordsToList().stream()
                .map(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON) + ": "
                        + DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.MESSAGE)).toList();
    }

    private static byte[] avroKey(final Schema schema, final Object datum) throws Exception {
        final SchemaRegistryClient client = SchemaRegistryClients.create(REGISTRY, Map.of());
        // a subject per key schema: these tests are not about the keys' compatibility
        final int id = client.register(schema.getName() + "-key", schema);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(id).array());
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<>(schema).write(datum, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static byte[] utf8(final String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void autoReadsAvroStringKeysAsConfluentsAvroProducerWritesThem() {
        start(KeyFormat.AUTO, null);
        try (AvroStringSerializer keys = new AvroStringSerializer()) {
            keys.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), true);
            send(keys.serialize(topics.events(), "user-1"), "user-1");
        }
        send(utf8("user-2"), "user-2");
        assertThat(reasons()).isEmpty();
        assertThat(counters.accepted()).isEqualTo(2);
    }

    @Test
    void recordKeysGiveTheirOnlyFieldOrTheNamedOne() throws Exception {
        start(KeyFormat.AUTO, null);
        final Schema single = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"Pk\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}");
        final GenericRecord pk = new GenericData.Record(single);
        pk.put("id", 42L);
        send(avroKey(single, pk), "42");
        final Schema two = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Pk2\",\"fields\":["
                + "{\"name\":\"tenant\",\"type\":\"string\"},{\"name\":\"user\",\"type\":\"string\"}]}");
        final GenericRecord pk2 = new GenericData.Record(two);
        pk2.put("tenant", "t");
        pk2.put("user", "u7");
        send(avroKey(two, pk2), "u7");
        assertThat(reasons()).singleElement().asString().startsWith("invalid-key").contains("--key-field");
        assertThat(counters.accepted()).isEqualTo(1);
    }

    @Test
    void aNamedKeyFieldIsReadFromAvroAndJsonRecords() throws Exception {
        start(KeyFormat.AUTO, "user.id");
        final Schema nested = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"K\",\"fields\":["
                + "{\"name\":\"tenant\",\"type\":\"string\"},{\"name\":\"user\",\"type\":{\"type\":\"record\","
                + "\"name\":\"U\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}}]}");
        final GenericRecord user = new GenericData.Record(nested.getField("user").schema());
        user.put("id", "u9");
        final GenericRecord key = new GenericData.Record(nested);
        key.put("tenant", "t");
        key.put("user", user);
        send(avroKey(nested, key), "u9");
        send(utf8("{\"tenant\":\"t\",\"user\":{\"id\":\"u10\"}}"), "u10");
        send(utf8("{\"tenant\":\"t\"}"), "u11");
        assertThat(reasons()).singleElement().asString().startsWith("invalid-key").contains("no field 'user.id'");
        assertThat(counters.accepted()).isEqualTo(2);
    }

    @Test
    void jsonKeysIncludingKafkaConnectsEnvelopeAndTextThatOnlyLooksLikeJson() {
        start(KeyFormat.AUTO, null);
        send(utf8("\"j1\""), "j1");
        send(utf8("{\"id\":\"j2\"}"), "j2");
        send(utf8("{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"j3\"}"), "j3");
        send(utf8("{not json"), "{not json");
        assertThat(reasons()).isEmpty();
        assertThat(counters.accepted()).isEqualTo(4);
    }

    @Test
    void explicitFormatsRefuseKeysOfAnotherFormatWithAReason() {
        start(KeyFormat.JSON, null);
        send(utf8("plain"), "plain");
        send(new byte[] {0, 0, 0, 0, 99, 2, 65}, "A");
        assertThat(reasons()).hasSize(2).allSatisfy(r -> assertThat(r).startsWith("invalid-key: record key is not JSON"));
    }

    @Test
    void anAvroKeyOfAnUnknownSchemaIdIsDeadLetteredAsInvalidKey() {
        start(KeyFormat.AUTO, null);
        send(new byte[] {0, 0, 0, 0x7f, 0x7f, 2, 65}, "A");
        assertThat(reasons()).singleElement().asString().startsWith("invalid-key: record key is not readable Avro");
    }

    @Test
    void textKeysStayAsTheyWere() {
        start(KeyFormat.TEXT, null);
        send(utf8("\"quoted\""), "\"quoted\"");
        send(new byte[] {'a', 0, 'b'}, "a");
        assertThat(reasons()).singleElement().asString().startsWith("invalid-key");
        assertThat(counters.accepted()).isEqualTo(1);
    }
}
