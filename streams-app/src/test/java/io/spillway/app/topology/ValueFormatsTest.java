package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import io.spillway.schemas.serde.internals.HeaderSchemaId;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values as users' own topics carry them (issue 17): Avro records of their own registered schema, JSON objects,
 * Kafka Connect's envelope, read through a field mapping; and Spillway's Event, still read as before.
 */
class ValueFormatsTest {
    private static final int CHUNK = 3;
    private static final EventLimits LIMITS = new EventLimits(64, 16, 8, 4096);
    static final String CLICK_V1 = "{\"type\":\"record\",\"name\":\"Click\",\"namespace\":\"shop\",\"fields\":["
            + "{\"name\":\"user\",\"type\":\"string\"},"
            + "{\"name\":\"page\",\"type\":\"string\"},"
            + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
            + "{\"name\":\"dwell\",\"type\":\"double\"}]}";
    /** Version 2 adds an optional field (BACKWARD compatible). */
    static final String CLICK_V2 = CLICK_V1.replace("]}", ",{\"name\":\"referrer\",\"type\":[\"null\",\"string\"],"
            + "\"default\":null}]}");
    private static final String MAPPING = "type=page\ntype.vocabulary=hash\ntime=at\nfeatures=dwell\n";

    private final Topics topics = Topics.defaults();
    private final PipelineCounters counters = new PipelineCounters();
    @TempDir
    Path dir;
    private SchemaRegistryServer registry;
    private SchemaRegistryClient client;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;
    private TestOutputTopic<byte[], byte[]> chunkTopic;

    @BeforeEach
    void startRegistry() {
        registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
        client = SchemaRegistryClients.create(registry.url().toString(), Map.of());
    }

    @AfterEach
    void tearDown() {
        if (driver != null) {
            driver.close();
        }
        client.close();
        registry.close();
    }

    private void start(final ValueFormat format, final String mapping) throws Exception {
        startWith(registry.url().toString(), format, mapping);
    }

    private void startWith(final String registryUrl, final ValueFormat format, final String mapping) throws Exception {
        final Properties m = new Properties();
        if (mapping != null) {
            m.load(new StringReader(mapping));
        }
        final FieldMapping fieldMapping = mapping == null ? null : FieldMapping.parse(m);
        final Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl,
                "schema.registry.max.retries", 0);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "value-formats-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(serde, false);
            return d;
        }, new KeyFormats(KeyFormat.AUTO, null, () -> {
            final GenericAvroDeserializer d = new GenericAvroDeserializer();
            d.configure(serde, true);
            return d;
        }), new ValueFormats(format, fieldMapping, () -> {
            final GenericAvroDeserializer d = new GenericAvroDeserializer();
            d.configure(serde, false);
            return d;
        }), LIMITS, counters, CHUNK, Duration.ofSeconds(5), InputGuards.DEFAULTS, p -> -1, p -> -1), props,
                Instant.ofEpochMilli(System.currentTimeMillis()));
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic(topics.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private byte[] avro(final String schemaText, final Map<String, Object> fields) throws Exception {
        final Schema schema = new Schema.Parser().parse(schemaText);
        // one subject per record name (RecordNameStrategy): the versions of one record are checked against each other
        final int id = client.register(schema.getFullName(), schema);
        final GenericRecord record = new GenericData.Record(schema);
        fields.forEach(record::put);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(id).array());
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static Map<String, Object> click(final String user, final String page, final long at, final double dwell) {
        return Map.of("user", user, "page", page, "at", at, "dwell", dwell);
    }

    private void send(final String key, final byte[] value) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, Instant.now());
    }

    private static byte[] utf8(final String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private List<String> reasons() {
        return dlq.readRecordsToList().stream()
                .map(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON) + ": "
                        + DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.MESSAGE)).toList();
    }

    private List<TimedChunk> chunks() {
        final List<TimedChunk> out = new ArrayList<>();
        for (final TestRecord<byte[], byte[]> r : chunkTopic.readRecordsToList()) {
            if (!ChunkRecords.isBarrier(r.value())) {
                out.add(ChunkRecords.decode(r.key(), r.value()));
            }
        }
        return out;
    }

    @Test
    void avroRecordsOfTheUsersOwnSchemaTrainThroughTheMappingAcrossASchemaVersionThatAddsAField() throws Exception {
        start(ValueFormat.AUTO, MAPPING);
        send("u1", avro(CLICK_V1, click("u1", "/home", 1_000, 2.5)));
        send("u1", avro(CLICK_V1, click("u1", "/cart", 2_000, 0.75)));
        final Map<String, Object> evolved = new java.util.HashMap<>(click("u1", "/home", 3_000, 1.0));
        evolved.put("referrer", "search");
        send("u1", avro(CLICK_V2, evolved));
        assertThat(reasons()).isEmpty();
        assertThat(chunks()).singleElement().satisfies(c -> {
            assertThat(c.key()).isEqualTo("u1");
            assertThat(c.timestampsMs()).containsExactly(1_000L, 2_000L, 3_000L);
            assertThat(c.chunk().events()).extracting(SparseEvent::eventType).containsExactly(
                    FieldMapping.hash("/home", 64), FieldMapping.hash("/cart", 64), FieldMapping.hash("/home", 64));
            assertThat(c.chunk().events().get(1).featureIndices()).containsExactly(0);
            assertThat(c.chunk().events().get(1).featureValues()).containsExactly(0.75f);
        });
    }

    @Test
    void aRecordTheMappingCannotReadIsDeadLetteredWithTheFieldAndTheReason() throws Exception {
        start(ValueFormat.AVRO, "type=page\ntype.vocabulary=hash\ntime=at\nfeatures=dwell\nlabel=outcome.code\n");
        final String noPage = CLICK_V1.replace("{\"name\":\"page\",\"type\":\"string\"},", "");
        final Map<String, Object> fields = new java.util.HashMap<>(click("u2", "-", 1_000, 1.0));
        fields.remove("page");
        send("u2", avro(noPage.replace("Click", "Visit"), fields));
        final String textTime = CLICK_V1.replace("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "\"string\"")
                .replace("Click", "Click2");
        final Map<String, Object> badTime = new java.util.HashMap<>(click("u2", "/a", 0, 1.0));
        badTime.put("at", "yesterday");
        send("u2", avro(textTime, badTime));
        badTime.put("at", "2026-12-02T17:57:50.125Z");
        send("u2", avro(textTime, badTime));
        assertThat(reasons()).containsExactly("mapping-failed: field page missing",
                "mapping-failed: field at is not an ISO-8601 time: 'yesterday'");
        assertThat(counters.accepted()).isEqualTo(1);
    }

    @Test
    void jsonObjectsPlainAndInKafkaConnectsEnvelopeTrainThroughTheMapping() throws Exception {
        start(ValueFormat.AUTO, "type=page\ntype.vocabulary=hash\ntime=at\nfeatures=dwell,extra.scores\n");
        send("j", utf8("{\"page\":\"/a\",\"at\":\"2026-01-01T00:00:00Z\",\"dwell\":1.5,\"extra\":{\"scores\":[1,0,3]}}"));
        send("j", utf8("{\"schema\":{\"type\":\"struct\"},\"payload\":{\"page\":\"/b\",\"at\":1767225600001,"
                + "\"dwell\":2}}"));
        send("j", utf8("  {\"page\":\"/c\",\"at\":1767225600002,\"dwell\":null,\"new\":true}"));
        send("j", utf8("{\"page\":\"/c\",\"at\":1767225600003"));
        assertThat(reasons()).singleElement().asString().startsWith("malformed-json: value is not one JSON value");
        assertThat(chunks()).singleElement().satisfies(c -> {
            assertThat(c.timestampsMs()).containsExactly(1767225600000L, 1767225600001L, 1767225600002L);
            assertThat(c.chunk().events().get(0).featureIndices()).containsExactly(0, 1, 3);
            assertThat(c.chunk().events().get(0).featureValues()).containsExactly(1.5f, 1f, 3f);
            assertThat(c.chunk().events().get(2).featureIndices()).isEmpty();
        });
    }

    @Test
    void theEntityIdCanBeAFieldAndTheRecordTimestampTheTime() throws Exception {
        start(ValueFormat.JSON, "entity=who.id\ntype=kind\n");
        final long ts = System.currentTimeMillis();
        input.pipeInput(null, utf8("{\"who\":{\"id\":\"e1\"},\"kind\":3}"), ts);
        input.pipeInput(utf8("ignored"), utf8("{\"who\":{\"id\":\"e1\"},\"kind\":4}"), ts + 1);
        input.pipeInput(null, utf8("{\"who\":{\"id\":\"e1\"},\"kind\":5}"), ts + 2);
        input.pipeInput(null, utf8("{\"who\":{},\"kind\":5}"), ts + 3);
        assertThat(reasons()).containsExactly("mapping-failed: field who.id missing");
        assertThat(chunks()).singleElement().satisfies(c -> {
            assertThat(c.key()).isEqualTo("e1");
            assertThat(c.timestampsMs()).containsExactly(ts, ts + 1, ts + 2);
            assertThat(c.chunk().events()).extracting(SparseEvent::eventType).containsExactly(3, 4, 5);
        });
    }

    @Test
    void withoutAMappingEventsAreReadAsAvroOrAsJsonObjectsAndOtherBytesAsBefore() throws Exception {
        start(ValueFormat.AUTO, null);
        final SpecificAvroSerializer<Event> events = new SpecificAvroSerializer<>(Event.class, client, false);
        send("e", events.serialize(topics.events(), Event.newBuilder().setEntityId("e").setTimestampMs(1)
                .setEventType(1).setFeatures(SparseVector.newBuilder().setIndices(List.of(2)).setValues(List.of(0.5f))
                        .build()).setLabel(null).build()));
        send("e", utf8("{\"entityId\":\"e\",\"timestampMs\":2,\"eventType\":2,\"features\":{\"indices\":[1],"
                + "\"values\":[0.25]},\"label\":null}"));
        send("e", utf8("{\"entityId\":\"other\",\"timestampMs\":3,\"eventType\":2,\"features\":{\"indices\":[],"
                + "\"values\":[]}}"));
        send("e", utf8("plain text"));
        send("e", avro(CLICK_V1, click("e", "/a", 1, 1)));
        assertThat(reasons()).hasSize(3).satisfiesExactly(
                r -> assertThat(r).startsWith("key-mismatch"),
                r -> assertThat(r).startsWith("wrong-magic-byte"),
                r -> assertThat(r).startsWith("incompatible-schema"));
        assertThat(counters.accepted()).isEqualTo(2);
    }

    @Test
    void theEventFormatReadsValuesExactlyAsEarlierVersionsDid() throws Exception {
        start(ValueFormat.EVENT, null);
        send("e", utf8("{\"entityId\":\"e\",\"timestampMs\":2,\"eventType\":2,\"features\":{\"indices\":[],"
                + "\"values\":[]}}"));
        assertThat(reasons()).singleElement().asString().startsWith("wrong-magic-byte");
    }

    @Test
    void aWriterSchemaNamedInAHeaderByGuidOrIdReadsTheBodyAloneAsConfluentsNewerSerializersWriteIt() throws Exception {
        start(ValueFormat.AUTO, MAPPING);
        final byte[] first = avro(CLICK_V1, click("h", "/home", 1_000, 1.0));
        final int id = ByteBuffer.wrap(first, 1, 4).getInt();
        // the registry gives each schema a GUID (GET /schemas/ids/{id}), which the header then names
        final java.util.UUID guid = java.util.UUID.fromString(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        registry.url().resolve("/schemas/ids/" + id)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body()).get("guid").asText());
        headed("h", body(first), HeaderSchemaId.guidHeader(guid));
        headed("h", body(avro(CLICK_V1, click("h", "/cart", 2_000, 0.5))), HeaderSchemaId.idHeader(id));
        // the key too: an Avro string without the prefix, its schema named by __key_schema_id
        final int stringId = client.register("events-key", Schema.create(Schema.Type.STRING));
        final RecordHeaders both = new RecordHeaders();
        both.add(HeaderSchemaId.VALUE_HEADER, HeaderSchemaId.guidHeader(guid));
        both.add(HeaderSchemaId.KEY_HEADER, HeaderSchemaId.idHeader(stringId));
        input.pipeInput(new TestRecord<>(new byte[] {2, 'h'}, body(avro(CLICK_V1, click("h", "/home", 2_500, 2.0))),
                both, Instant.now()));
        assertThat(reasons()).isEmpty();
        assertThat(chunks()).as("one key: the header-framed Avro key read as h, not as the text \\u0002h")
                .singleElement().satisfies(c -> {
                    assertThat(c.key()).isEqualTo("h");
                    assertThat(c.timestampsMs()).containsExactly(1_000L, 2_000L, 2_500L);
                });

        headed("h", body(avro(CLICK_V1, click("h", "/a", 3_000, 1.0))), HeaderSchemaId.guidHeader(
                java.util.UUID.nameUUIDFromBytes(utf8("no such schema"))));
        headed("h", body(first), new byte[17]);
        headed("h", body(first), new byte[] {1, 2, 3});
        final List<String> refused = reasons();
        assertThat(refused).hasSize(3);
        assertThat(refused.get(0)).startsWith("unknown-schema-id: schema GUID ");
        assertThat(refused.get(1)).startsWith("malformed-schema-id-header: the __value_schema_id header of 17 bytes");
        assertThat(refused.get(2)).startsWith("malformed-schema-id-header: the __value_schema_id header of 3 bytes");
    }

    /** The Avro body of a prefix-framed value: what a header-framing producer writes. */
    private static byte[] body(final byte[] framed) {
        return java.util.Arrays.copyOfRange(framed, 5, framed.length);
    }

    private void headed(final String key, final byte[] value, final byte[] schemaIdHeader) {
        final RecordHeaders headers = new RecordHeaders();
        headers.add(HeaderSchemaId.VALUE_HEADER, schemaIdHeader);
        input.pipeInput(new TestRecord<>(utf8(key), value, headers, Instant.now()));
    }

    @Test
    void aTextCategoryWithoutAVocabularyIsRefusedNamingTheSetting() throws Exception {
        start(ValueFormat.AUTO, "type=page\ntime=at\n");
        send("t", avro(CLICK_V1, click("t", "/home", 1, 1)));
        assertThat(reasons()).singleElement().asString()
                .isEqualTo("mapping-failed: field page is text ('/home'): set type.vocabulary=hash (or dictionary) "
                        + "in the mapping to turn categories into ids");
    }

    @Test
    void whileTheRegistryIsUnreachableMappedRecordsWaitAndThenTrainInOrder() throws Exception {
        start(ValueFormat.AUTO, MAPPING);
        final int port = registry.url().getPort();
        final byte[] first = avro(CLICK_V1, click("w", "/1", 1, 1));
        final byte[] second = avro(CLICK_V2, new java.util.HashMap<>(click("w", "/2", 2, 1)));
        final byte[] third = avro(CLICK_V2, new java.util.HashMap<>(click("w", "/3", 3, 1)));
        registry.close();
        send("w", first);
        send("w", second);
        send("w", third);
        assertThat(reasons()).as("waiting is not dead-lettering").isEmpty();
        assertThat(counters.waitingForRegistry()).isEqualTo(3);
        registry = SchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", port), dir.resolve("schemas.jsonl"));
        driver.advanceWallClockTime(ChunkingProcessor.REGISTRY_RETRY);
        assertThat(counters.waitingForRegistry()).isZero();
        assertThat(reasons()).isEmpty();
        assertThat(chunks()).singleElement().satisfies(c -> assertThat(c.chunk().events())
                .extracting(SparseEvent::eventType).containsExactly(FieldMapping.hash("/1", 64),
                        FieldMapping.hash("/2", 64), FieldMapping.hash("/3", 64)));
    }

    @Test
    void protobufValuesAreDeadLetteredAsUnsupportedNamingProtobufAndJsonSchemaValuesReadAsJson() throws Exception {
        // a registry that holds a Protobuf schema (id 41) and a JSON Schema (id 42), as Confluent's answers them
        final com.sun.net.httpserver.HttpServer fake = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress("127.0.0.1", 0), 4);
        fake.createContext("/schemas/ids/", exchange -> {
            final String path = exchange.getRequestURI().getPath();
            final String body = path.endsWith("/41")
                    ? "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\"; message Click { string page = 1; }\"}"
                    : "{\"schemaType\":\"JSON\",\"schema\":\"{\\\"type\\\":\\\"object\\\"}\"}";
            final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        fake.start();
        try {
            startWith("http://127.0.0.1:" + fake.getAddress().getPort(), ValueFormat.AUTO, MAPPING);
            send("p", new byte[] {0, 0, 0, 0, 41, 0, 10, 5, '/', 'h', 'o', 'm', 'e'});
            final byte[] json = utf8("{\"page\":\"/a\",\"at\":5,\"dwell\":1}");
            final byte[] framed = ByteBuffer.allocate(5 + json.length).put((byte) 0).putInt(42).put(json).array();
            send("p", framed);
            assertThat(reasons()).singleElement().asString().startsWith("unsupported-value-format: value schema id 41 "
                    + "is a PROTOBUF schema: Protobuf values are not supported");
            assertThat(counters.accepted()).as("the JSON Schema value").isEqualTo(1);
            assertThat(counters.waitingForRegistry()).as("a Protobuf id is not an outage").isZero();
        } finally {
            fake.stop(0);
        }
    }
}
