package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SpillwayTopologyTest {
    private static final int VOCAB = 8;
    private static final int FEATURES = 16;
    private static final int CHUNK = 4;
    private static final Duration MAX_WAIT = Duration.ofSeconds(5);

    @TempDir
    Path stateDir;
    private String scope;
    private String registryUrl;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;
    private SpecificAvroSerializer<Event> serializer;
    private final List<AssembledChunk> chunks = new ArrayList<>();
    private final PipelineCounters counters = new PipelineCounters();

    @BeforeEach
    void setUp() {
        scope = "topology-" + UUID.randomUUID();
        registryUrl = "mock://" + scope;
        final Map<String, String> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
        final TopologySettings settings = new TopologySettings(CHUNK, MAX_WAIT, VOCAB, FEATURES, 1e6f);
        final var topology = SpillwayTopology.build(TopicNames.DEFAULTS, settings, serde, chunks::add, counters);
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(topology, props);
        input = driver.createInputTopic("events", new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic("events-dlq", new ByteArrayDeserializer(), new ByteArrayDeserializer());
        serializer = new SpecificAvroSerializer<>(Event.class);
        serializer.configure(serde, false);
    }

    @AfterEach
    void tearDown() {
        driver.close();
        serializer.close();
        SchemaRegistryClients.dropMockScope(scope);
    }

    private static Event event(final String key, final long ts, final int type, final int[] idx, final float[] val,
                               final Integer label) {
        final List<Integer> i = new ArrayList<>();
        final List<Float> v = new ArrayList<>();
        for (int k = 0; k < idx.length; k++) {
            i.add(idx[k]);
        }
        for (final float f : val) {
            v.add(f);
        }
        return Event.newBuilder().setEntityId(key).setTimestampMs(ts).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(i).setValues(v).build()).setLabel(label).build();
    }

    private static Event plain(final String key, final long ts, final int type) {
        return event(key, ts, type, new int[] {type, type + 1}, new float[] {0.5f, -1f}, null);
    }

    private void send(final String key, final Event e) {
        input.pipeInput(key.getBytes(StandardCharsets.UTF_8), serializer.serialize("events", e));
    }

    @Test
    void validEventsBecomeChunksInOrderAndShortChunksFlushAfterMaxWait() {
        for (int t = 0; t < 10; t++) {
            send("a", plain("a", 1000 + t, t % VOCAB));
            send("b", plain("b", 2000 + t, (t * 3) % VOCAB));
        }
        assertThat(chunks).hasSize(4);
        assertThat(counters.buffered()).isEqualTo(4);
        final List<AssembledChunk> ofA = chunks.stream().filter(c -> c.key().equals("a")).toList();
        assertThat(ofA).hasSize(2);
        assertThat(ofA.get(0).chunk().events()).extracting(SparseEvent::eventType).containsExactly(0, 1, 2, 3);
        assertThat(ofA.get(0).timestampsMs()).containsExactly(1000, 1001, 1002, 1003);
        assertThat(ofA.get(0).previousTimestampMs()).isEqualTo(-1);
        assertThat(ofA.get(1).previousTimestampMs()).isEqualTo(1003);
        assertThat(ofA.get(1).chunk().events().get(0))
                .isEqualTo(new SparseEvent(4, new int[] {4, 5}, new float[] {0.5f, -1f}, SparseEvent.NO_LABEL));

        driver.advanceWallClockTime(MAX_WAIT.minusMillis(100));
        assertThat(chunks).hasSize(4);
        driver.advanceWallClockTime(Duration.ofSeconds(1));
        assertThat(chunks).hasSize(6);
        final AssembledChunk tailOfB = chunks.stream().filter(c -> c.key().equals("b")).toList().get(2);
        assertThat(tailOfB.chunk().events()).extracting(SparseEvent::eventType).containsExactly(0, 3);
        assertThat(tailOfB.previousTimestampMs()).isEqualTo(2007);
        assertThat(counters.consumed()).isEqualTo(20);
        assertThat(counters.handedOff()).isEqualTo(20);
        assertThat(counters.buffered()).isZero();
        assertThat(dlq.isEmpty()).isTrue();

        // the key's ordering state outlives the flushed chunk
        send("a", plain("a", 999, 1));
        assertThat(reasonOf(dlq.readRecord())).isEqualTo("OUT_OF_ORDER_TIMESTAMP");
    }

    @Test
    void explicitLabelsAndEqualTimestampsAreAccepted() {
        for (int t = 0; t < CHUNK; t++) {
            send("k", event("k", 5, 2, new int[0], new float[0], t % 2 == 0 ? 7 : null));
        }
        assertThat(chunks).singleElement().satisfies(c -> assertThat(c.chunk().events())
                .extracting(SparseEvent::label).containsExactly(7, SparseEvent.NO_LABEL, 7, SparseEvent.NO_LABEL));
    }

    /** One bad input per reason, built by {@link #badRecord}. */
    @ParameterizedTest
    @EnumSource(DeadLetterReason.class)
    void eachBadRecordKindIsDeadLetteredWithReasonAndOriginalBytes(final DeadLetterReason reason) throws IOException {
        send("good", plain("good", 100, 1));
        final TestRecord<byte[], byte[]> bad = badRecord(reason);
        input.pipeInput(bad);
        send("good", plain("good", 101, 2));

        final TestRecord<byte[], byte[]> out = dlq.readRecord();
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(out.key()).isEqualTo(bad.key());
        assertThat(out.value()).isEqualTo(bad.value());
        assertThat(reasonOf(out)).isEqualTo(reason.name());
        assertThat(header(out, DeadLetterHeaders.MESSAGE)).isNotBlank();
        assertThat(header(out, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("events");
        assertThat(header(out, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("0");
        assertThat(header(out, DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo(reason == DeadLetterReason.OUT_OF_ORDER_TIMESTAMP ? "2" : "1");
        assertThat(header(out, "trace-id")).isEqualTo("original");

        final long expectedConsumed = reason == DeadLetterReason.OUT_OF_ORDER_TIMESTAMP ? 4 : 3;
        assertThat(counters.consumed()).isEqualTo(expectedConsumed);
        assertThat(counters.deadLetteredByReason()).containsExactly(Map.entry(reason, 1L));
        assertThat(counters.buffered()).isEqualTo(expectedConsumed - 1);
        driver.advanceWallClockTime(MAX_WAIT.plusSeconds(1));
        assertThat(counters.handedOff()).isEqualTo(expectedConsumed - 1);
        assertThat(chunks.stream().mapToInt(AssembledChunk::size).sum()).isEqualTo((int) expectedConsumed - 1);
    }

    private TestRecord<byte[], byte[]> badRecord(final DeadLetterReason reason) throws IOException {
        final RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", "original".getBytes(StandardCharsets.UTF_8));
        final byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        final byte[] value = switch (reason) {
            case MISSING_KEY -> serializer.serialize("events", plain("k", 1, 1));
            case MISSING_VALUE -> null;
            case DESERIALIZATION_FAILED -> new byte[] {0, 0, 0};
            case UNKNOWN_SCHEMA_ID -> ByteBuffer.allocate(7).put((byte) 0).putInt(987_654).put(new byte[] {2, 4}).array();
            case INCOMPATIBLE_SCHEMA -> foreignSchemaRecord();
            case KEY_MISMATCH -> serializer.serialize("events", plain("other", 1, 1));
            case BAD_EVENT_TYPE -> serializer.serialize("events", plain("k", 1, VOCAB));
            case BAD_LABEL -> serializer.serialize("events", event("k", 1, 1, new int[0], new float[0], -3));
            case BAD_FEATURE_INDEX -> serializer.serialize("events",
                    event("k", 1, 1, new int[] {3, 3}, new float[] {1f, 2f}, null));
            case BAD_FEATURE_VALUE -> serializer.serialize("events",
                    event("k", 1, 1, new int[] {3}, new float[] {Float.NaN}, null));
            case NEGATIVE_TIMESTAMP -> serializer.serialize("events", plain("k", -5, 1));
            case OUT_OF_ORDER_TIMESTAMP -> {
                send("k", plain("k", 50, 1));
                yield serializer.serialize("events", plain("k", 49, 1));
            }
        };
        return new TestRecord<>(reason == DeadLetterReason.MISSING_KEY ? null : key, value, headers);
    }

    /** A well-formed wire-format record whose registered writer schema cannot be read as Event. */
    private byte[] foreignSchemaRecord() throws IOException {
        final Schema foreign = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[{\"name\":\"x\",\"type\":\"string\"}]}");
        final SchemaRegistryClient client = SchemaRegistryClients.create(registryUrl, Map.of());
        final int id = client.register("foreign-value", foreign);
        final GenericRecord rec = new GenericData.Record(foreign);
        rec.put("x", "hello");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        final BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(foreign).write(rec, enc);
        enc.flush();
        return out.toByteArray();
    }

    @Test
    void featureIndexOutOfRangeAndLengthMismatchAreRejected() {
        send("k", event("k", 1, 1, new int[] {FEATURES}, new float[] {1f}, null));
        final Event mismatch = plain("k", 1, 1);
        mismatch.getFeatures().setValues(List.of(1f));
        send("k", mismatch);
        send("k", event("k", 1, 1, new int[] {2}, new float[] {Float.POSITIVE_INFINITY}, null));
        assertThat(dlq.readRecordsToList()).extracting(SpillwayTopologyTest::reasonOf)
                .containsExactly("BAD_FEATURE_INDEX", "BAD_FEATURE_INDEX", "BAD_FEATURE_VALUE");
    }

    @Test
    void bufferedEventsLiveInTheStoreUntilTheirChunkIsHandedOff() {
        for (int t = 0; t < 3; t++) {
            send("a", plain("a", t, t));
        }
        assertThat(chunks).isEmpty();
        final var store = driver.getKeyValueStore(SpillwayTopology.EVENT_STORE);
        assertThat(keysOf(store)).hasSize(3);
        send("a", plain("a", 3, 3));
        assertThat(chunks).singleElement().satisfies(c -> assertThat(c.size()).isEqualTo(CHUNK));
        assertThat(keysOf(store)).isEmpty();
    }

    private static String reasonOf(final TestRecord<byte[], byte[]> r) {
        return header(r, DeadLetterHeaders.REASON);
    }

    private static String header(final TestRecord<byte[], byte[]> r, final String name) {
        final Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static List<String> keysOf(final KeyValueStore<Object, Object> store) {
        final List<String> keys = new ArrayList<>();
        try (KeyValueIterator<Object, Object> it = store.all()) {
            it.forEachRemaining(kv -> keys.add(String.valueOf(kv.key)));
        }
        return keys;
    }
}
