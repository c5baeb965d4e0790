package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Single records that stopped the topology (or a key) for good: each is dead-lettered with a reason, or waits,
 * and training goes on. The broker-level cases (a dead letter over the topic's limit, a negative timestamp sent by
 * librdkafka) run against a real broker in the hostile-input ITs; here the topology's own behaviour is pinned.
 */
@Tag("hostile-input")
class HostileInputTopologyTest {
    private static final String MOCK = "mock://hostile-topology-test";
    private static final int CHUNK = 4;
    private static final EventLimits LIMITS = new EventLimits(8, 16, 4, 4096);
    private final Topics topics = Topics.defaults();
    private final PipelineCounters counters = new PipelineCounters();
    @TempDir
    Path dir;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;
    private TestOutputTopic<byte[], byte[]> chunkTopic;
    private SpecificAvroSerializer<Event> serializer;
    /** The entity id's field in record keys, for the tests of keys that are records. */
    private String keyField;

    private void start(final InputGuards guards, final String registryUrl) {
        serializer = new SpecificAvroSerializer<>(Event.class);
        serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "hostile-topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl, "schema.registry.max.retries", 0), false);
            return d;
        }, new KeyFormats(KeyFormat.AUTO, keyField, () -> {
            final GenericAvroDeserializer d = new GenericAvroDeserializer();
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl, "schema.registry.max.retries", 0), true);
            return d;
        }), LIMITS, counters, CHUNK, Duration.ofSeconds(5), guards, p -> -1, p -> -1), props,
                Instant.ofEpochMilli(System.currentTimeMillis()));
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic(topics.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void tearDown() {
        if (driver != null) {
            driver.close();
        }
        SchemaRegistryClients.dropMockScope("hostile-topology-test");
    }

    private static Event event(final String key, final long ts, final int type) {
        return Event.newBuilder().setEntityId(key).setTimestampMs(ts).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(List.of(1)).setValues(List.of(0.5f)).build())
                .setLabel(null).build();
    }

    private void send(final String key, final Event e, final long recordTimestampMs) {
        input.pipeInput(key.getBytes(StandardCharsets.UTF_8), serializer.serialize(topics.events(), e), recordTimestampMs);
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

    private static String reason(final TestRecord<byte[], byte[]> r) {
        return DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON);
    }

    @Test
    void anOversizedValueIsDeadLetteredBeforeItIsDecoded() {
        start(InputGuards.DEFAULTS, MOCK);
        final byte[] value = new byte[LIMITS.maxEventBytes() + 1]; // not even Avro: decoding would say so first
        input.pipeInput("a".getBytes(StandardCharsets.UTF_8), value);
        assertThat(dlq.readRecordsToList()).extracting(HostileInputTopologyTest::reason).containsExactly("oversized-event");
    }

    @Test
    void aDeadLetterLargerThanTheDeadLetterTopicTakesGoesOutTruncatedWithTheOriginalSizesAndDigest() throws Exception {
        final int limit = 16 << 10;
        start(InputGuards.DEFAULTS.withDeadLetterMaxBytes(limit), MOCK);
        final byte[] value = new byte[100_000];
        Arrays.fill(value, (byte) 7);
        final RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetterHeaders.REASON, "forged".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new TestRecord<>("a".getBytes(StandardCharsets.UTF_8), value, headers, Instant.now()));
        send("a", event("a", 1, 1), System.currentTimeMillis()); // the key trains on
        final List<TestRecord<byte[], byte[]>> letters = dlq.readRecordsToList();
        assertThat(letters).hasSize(1);
        final TestRecord<byte[], byte[]> letter = letters.get(0);
        assertThat(reason(letter)).as("a producer cannot forge the reason").isEqualTo("oversized-event");
        assertThat(letter.headers().headers(DeadLetterHeaders.REASON)).hasSize(1);
        assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
        assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo("100000");
        assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.ORIGINAL_VALUE_SHA256))
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value)));
        assertThat(DeadLetterHeaders.get(letter.headers(), "trace-id")).isEqualTo("abc");
        int size = letter.key().length + letter.value().length;
        for (final var h : letter.headers()) {
            size += h.key().length() + h.value().length + 16;
        }
        assertThat(size).isLessThanOrEqualTo(limit - DeadLetters.FRAMING_BYTES);
        assertThat(letter.value()).as("a prefix of the value").containsOnly(7).hasSizeGreaterThan(limit / 2);
        assertThat(counters.deadLettersTruncated()).isEqualTo(1);
    }

    @Test
    void anOversizedKeyIsDeadLetteredBeforeAnythingIsDecoded() {
        start(new InputGuards(Duration.ofDays(1), Duration.ofDays(7), 1 << 20, 64,
                InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES), MOCK);
        final String huge = "k".repeat(65);
        send(huge, event(huge, 1, 1), System.currentTimeMillis());
        final String fits = "k".repeat(64);
        send(fits, event(fits, 1, 1), System.currentTimeMillis());
        assertThat(dlq.readRecordsToList()).extracting(HostileInputTopologyTest::reason).containsExactly("oversized-key");
        assertThat(counters.accepted()).isEqualTo(1);
    }

    @Test
    void aDeadLetterThatFitsIsSentWhole() {
        start(InputGuards.DEFAULTS, MOCK);
        final byte[] value = {1, 2, 3};
        input.pipeInput("a".getBytes(StandardCharsets.UTF_8), value);
        final TestRecord<byte[], byte[]> letter = dlq.readRecord();
        assertThat(letter.value()).isEqualTo(value);
        assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED)).isNull();
    }

    @Test
    void oneFarFutureEventTimeIsDeadLetteredAndTheKeysLaterEventsStillTrain() {
        start(InputGuards.DEFAULTS, MOCK);
        final long now = System.currentTimeMillis();
        send("a", event("a", 1_000, 1), now);
        send("a", event("a", Long.MAX_VALUE, 2), now);
        for (int t = 1; t < CHUNK; t++) {
            send("a", event("a", 1_000 + t, 1), now);
        }
        assertThat(dlq.readRecordsToList()).extracting(HostileInputTopologyTest::reason)
                .containsExactly("timestamp-in-future");
        assertThat(chunks()).hasSize(1).first().extracting(c -> c.chunk().events().size()).isEqualTo(CHUNK);
    }

    @Test
    void aRecordTimestampFarAheadOfTheWallClockIsDeadLetteredNotTrained() {
        start(InputGuards.DEFAULTS, MOCK);
        final long future = System.currentTimeMillis() + Duration.ofDays(30).toMillis();
        send("a", event("a", 1, 1), future);
        assertThat(dlq.readRecordsToList()).singleElement().satisfies(r -> {
            assertThat(reason(r)).isEqualTo("invalid-record-timestamp");
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.ORIGINAL_TIMESTAMP))
                    .isEqualTo(Long.toString(future));
        });
        assertThat(counters.accepted()).isZero();
    }

    @Test
    void aForgedInvalidTimestampHeaderOnAValidRecordIsIgnored() {
        start(InputGuards.DEFAULTS, MOCK);
        final RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetterHeaders.ORIGINAL_TIMESTAMP, "-5".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new TestRecord<>("a".getBytes(StandardCharsets.UTF_8),
                serializer.serialize(topics.events(), event("a", 1, 1)), headers, Instant.now()));
        assertThat(dlq.readRecordsToList()).isEmpty();
        assertThat(counters.accepted()).isEqualTo(1);
    }

    @Test
    void negativeRecordTimestampsAreDeadLetteredByTheExtractor() {
        final RecordTimeGuard guard = new RecordTimeGuard(Duration.ofDays(1).toMillis(), () -> 1_000_000L);
        final var record = new org.apache.kafka.clients.consumer.ConsumerRecord<Object, Object>("events", 0, 3L, -5L,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 1, 1, "k", "v", new RecordHeaders(),
                java.util.Optional.empty());
        assertThat(guard.extract(record, 900L)).as("the partition's time so far stands in").isEqualTo(900L);
        assertThat(RecordTimeGuard.invalidTimestamp(record.headers())).isEqualTo(-5L);
        assertThat(guard.extract(record, -1L)).isZero();
    }

    @Test
    void idleKeysStateIsDeletedAfterTheRetentionAndTheKeyStartsAfresh() {
        start(new InputGuards(Duration.ofDays(1), Duration.ofHours(1), 1 << 20, InputGuards.DEFAULT_MAX_KEY_BYTES,
                InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES),
                MOCK);
        final long t0 = System.currentTimeMillis() - Duration.ofHours(3).toMillis();
        for (int t = 0; t < CHUNK; t++) {
            send("idle", event("idle", 5_000 + t, 1), t0);
        }
        final KeyValueStore<String, byte[]> metas = driver.getKeyValueStore(SpillwayTopology.STORE);
        assertThat(metas.get("idle")).isNotNull();
        send("busy", event("busy", 1, 1), t0 + Duration.ofMinutes(30).toMillis());
        driver.advanceWallClockTime(Duration.ofMinutes(10));
        assertThat(metas.get("idle")).as("idle for 30 min of a 1 h retention").isNotNull();
        send("busy", event("busy", 2, 1), t0 + Duration.ofHours(2).toMillis());
        driver.advanceWallClockTime(Duration.ofMinutes(10));
        assertThat(metas.get("idle")).as("idle for 2 h").isNull();
        assertThat(metas.get("busy")).as("a key seen recently is kept").isNotNull();
        assertThat(counters.keysExpired()).isEqualTo(1);
        send("idle", event("idle", 10, 1), t0 + Duration.ofHours(2).toMillis());
        assertThat(dlq.readRecordsToList()).as("an earlier event time than before the expiry: a fresh start").isEmpty();
    }

    @Test
    void whileTheRegistryIsUnreachableOnlyKeysThatNeedItWaitAndTheyResumeInOrder() throws Exception {
        final Path store = dir.resolve("schemas.jsonl");
        SchemaRegistryServer registry = SchemaRegistryServer.start(null, store);
        final int port = registry.url().getPort();
        final String url = registry.url().toString();
        start(InputGuards.DEFAULTS, url);
        final long now = System.currentTimeMillis();
        send("a", event("a", 1, 1), now); // the deserializer now knows Event's id
        // A newer writer schema the deserializer has not seen: Event plus an optional field.
        final Schema evolved = new Schema.Parser().parse(Event.getClassSchema().toString()
                .replaceFirst("]}$", ",{\"name\":\"extra\",\"type\":[\"null\",\"string\"],\"default\":null}]}"));
        final int evolvedId;
        final SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of());
        try {
            evolvedId = client.register(topics.events() + "-value", evolved);
        } finally {
            client.close();
        }
        final byte[] plain = serializer.serialize(topics.events(), event("b", 1, 2));
        final byte[] withEvolved = ByteBuffer.allocate(plain.length + 1).put((byte) 0).putInt(evolvedId)
                .put(plain, 5, plain.length - 5).put((byte) 0).array(); // union branch 0: extra = null
        registry.close();

        input.pipeInput("b".getBytes(StandardCharsets.UTF_8), withEvolved, now);
        send("a", event("a", 2, 1), now);
        send("b", event("b", 2, 3), now); // its schema is known, but it must wait behind b's first event
        for (int t = 3; t <= CHUNK; t++) {
            send("a", event("a", t, 1), now);
        }
        assertThat(dlq.readRecordsToList()).as("waiting is not dead-lettering").isEmpty();
        assertThat(counters.waitingForRegistry()).isEqualTo(2);
        assertThat(counters.registryUnavailable()).isPositive();
        assertThat(chunks()).as("key a trains on").extracting(TimedChunk::key).containsExactly("a");
        assertThat(counters.consumed()).isEqualTo(counters.accepted() + counters.deadLettered()
                + counters.waitingForRegistry());

        registry = SchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", port), store);
        try {
            driver.advanceWallClockTime(ChunkingProcessor.REGISTRY_RETRY);
            assertThat(counters.waitingForRegistry()).isZero();
            send("b", event("b", 3, 4), now);
            send("b", event("b", 4, 5), now);
            assertThat(chunks()).singleElement().satisfies(c -> {
                assertThat(c.key()).isEqualTo("b");
                assertThat(c.chunk().events()).extracting(e -> e.eventType()).containsExactly(2, 3, 4, 5);
            });
            assertThat(dlq.readRecordsToList()).isEmpty();
        } finally {
            registry.close();
        }
    }
}
