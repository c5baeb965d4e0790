package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpillwayTopologyTest {
    private static final String REGISTRY = "mock://topology-test";
    private static final int CHUNK = 4;
    private final Topics topics = Topics.defaults();
    private final PipelineCounters counters = new PipelineCounters();
    private final SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class);
    @TempDir
    Path stateDir;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;
    private TestOutputTopic<byte[], byte[]> chunkTopic;
    private int barriers;

    @BeforeEach
    void setUp() {
        serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
            return d;
        }, new EventLimits(8, 16, 4, 4096), counters, CHUNK, Duration.ofSeconds(5)), props());
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic(topics.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The chunks written to the chunk topic since the last call, in order; barriers are counted. */
    private List<TimedChunk> chunks() {
        final List<TimedChunk> out = new ArrayList<>();
        for (final org.apache.kafka.streams.test.TestRecord<byte[], byte[]> r : chunkTopic.readRecordsToList()) {
            if (ChunkRecords.isBarrier(r.value())) {
                barriers++;
            } else {
                out.add(ChunkRecords.decode(r.key(), r.value()));
            }
        }
        return out;
    }

    private Properties props() {
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        return props;
    }

    @AfterEach
    void tearDown() {
        driver.close();
        SchemaRegistryClients.dropMockScope("topology-test");
    }

    private static Event event(final String key, final long ts, final int type, final int[] idx, final float[] val) {
        final List<Integer> i = new ArrayList<>();
        final List<Float> v = new ArrayList<>();
        for (int j = 0; j < idx.length; j++) {
            i.add(idx[j]);
            v.add(val[j]);
        }
        return Event.newBuilder().setEntityId(key).setTimestampMs(ts).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(i).setValues(v).build()).setLabel(null).build();
    }

    private static Event event(final String key, final long ts, final int type) {
        return event(key, ts, type, new int[] {1, 3}, new float[] {0.5f, 2f});
    }

    private void send(final String key, final Event e) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8), serializer.serialize(topics.events(), e));
    }

    private void sendRaw(final String key, final byte[] value) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    @Test
    void validEventsBecomeChunksOfTheirKeyInOrder() throws Exception {
        for (int t = 0; t < 9; t++) {
            send("a", event("a", 1000 + t, t % 8));
            if (t % 2 == 0) {
                send("b", event("b", 2000 + t, 7 - t % 8));
            }
        }
        final List<TimedChunk> chunks = chunks();
        assertThat(chunks).extracting(TimedChunk::key).containsExactly("a", "b", "a");
        assertThat(chunks.get(0).chunk().events()).extracting(e -> e.eventType()).containsExactly(0, 1, 2, 3);
        assertThat(chunks.get(0).timestampsMs()).containsExactly(1000, 1001, 1002, 1003);
        assertThat(chunks.get(0).chunk().events().get(0).featureIndices()).containsExactly(1, 3);
        assertThat(chunks.get(2).chunk().events()).extracting(e -> e.eventType()).containsExactly(4, 5, 6, 7);
        assertThat(chunks.get(0).previousTimestampMs()).isEqualTo(-1);
        assertThat(chunks.get(2).previousTimestampMs()).isEqualTo(1003);
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(counters.consumed()).isEqualTo(14);
        assertThat(counters.accepted()).isEqualTo(14);
        // 14 accepted = 12 handed over + 1 open for "a" + 1 open for "b".
        assertThat(chunks.stream().mapToInt(TimedChunk::size).sum()).isEqualTo(12);
        // each event's input offset travels with it: "a" and "b" interleave on partition 0
        assertThat(chunks.get(0).sourceOffsets()).containsExactly(0, 2, 3, 5);
        assertThat(chunks.get(1).sourceOffsets()).containsExactly(1, 4, 7, 10);
        assertThat(chunks.get(0).sourcePartition()).isZero();
        assertThat(barriers).as("count-based chunks need no barrier").isZero();
    }

    @Test
    void slowKeysAreFlushedAfterTheMaximumWait() throws Exception {
        send("slow", event("slow", 1, 1));
        send("slow", event("slow", 2, 2));
        assertThat(chunks()).isEmpty();
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        final List<TimedChunk> flushed = chunks();
        assertThat(flushed).hasSize(1);
        assertThat(barriers).as("a max-wait flush ends with a barrier, so the trainer closes its batch").isEqualTo(1);
        final TimedChunk c = flushed.get(0);
        assertThat(c.key()).isEqualTo("slow");
        assertThat(c.size()).isEqualTo(2);
    }

    @Test
    void anInputThatGoesQuietWithNoChunkOpenEndsWithOneBarrier() throws Exception {
        for (int t = 0; t < 4; t++) {
            send("a", event("a", 1000 + t, t));
        }
        assertThat(chunks()).extracting(TimedChunk::key).containsExactly("a");
        assertThat(barriers).as("busy input: count-based chunks need none").isZero();
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).isEmpty();
        assertThat(barriers).as("quiet for a max-wait: the trainer may close the batch it has open").isEqualTo(1);
        driver.advanceWallClockTime(Duration.ofSeconds(30));
        assertThat(chunks()).isEmpty();
        assertThat(barriers).as("one barrier per quiet spell").isEqualTo(1);
    }

    private void send(final String key, final Event e, final long recordTimestampMs) {
        input.pipeInput(key.getBytes(StandardCharsets.UTF_8), serializer.serialize(topics.events(), e), recordTimestampMs);
    }

    @Test
    void whileCatchingUpABacklogAChunkWaitsOnTheInputsClockNotOnProcessingTime() throws Exception {
        // A backlog: records written a millisecond apart, processed 3 s of wall clock apart (a slow catch-up).
        send("a", event("a", 1, 1), 10_000);
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        send("b", event("b", 1, 1), 10_001);
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        send("b", event("b", 2, 2), 10_002);
        assertThat(chunks()).as("a's chunk is 6 s old on the wall clock, 2 ms on the input's").isEmpty();
        assertThat(barriers).isZero();
        // The input's clock moves on: c was written 5 s after a's and b's first events.
        send("c", event("c", 1, 1), 15_000);
        driver.advanceWallClockTime(Duration.ofMillis(2_500));
        assertThat(chunks()).extracting(TimedChunk::key).containsExactlyInAnyOrder("a", "b");
        assertThat(barriers).isEqualTo(1);
        // No more input: the input's clock runs on with the wall clock, so c's chunk goes too.
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).extracting(TimedChunk::key).containsExactly("c");
        assertThat(barriers).isEqualTo(2);
    }

    @Test
    void aKeyGoingQuietWhileItsTaskStillHandsOverFullChunksIsFlushedWithoutABarrier() throws Exception {
        send("a", event("a", 1, 1), 10_000); // a document that ends here
        for (int t = 1; t <= CHUNK; t++) {
            send("b", event("b", t, 1), 10_000 + t);
        }
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        for (int t = 1; t <= CHUNK; t++) {
            send("b", event("b", 100 + t, 1), 14_000);
        }
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        assertThat(chunks()).as("a's chunk is stale on both clocks").extracting(TimedChunk::key)
                .containsExactly("b", "b", "a");
        assertThat(barriers).as("b's full chunk 3 s ago: the input flows, more of the log follows").isZero();
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).isEmpty();
        assertThat(barriers).as("then the input goes quiet: one barrier, the trainer closes its batch").isEqualTo(1);
    }

    @Test
    void aPauseInProcessingATaskBehindItsInputIsNotQuietInput() throws Exception {
        driver.close();
        final long[] lag = {5}; // records of the partition not fetched yet
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
            return d;
        }, new EventLimits(8, 16, 4, 4096), counters, CHUNK, Duration.ofSeconds(5), partition -> lag[0]), props());
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        send("a", event("a", 1, 1), 10_000);
        driver.advanceWallClockTime(Duration.ofSeconds(12));
        assertThat(chunks()).as("behind its input: the pause does not move the input's clock").isEmpty();
        driver.advanceWallClockTime(Duration.ofSeconds(40));
        assertThat(chunks()).as("handed over after ten waits all the same").extracting(TimedChunk::key).containsExactly("a");
        assertThat(barriers).as("behind its input: more of the log follows, no barrier").isZero();
        lag[0] = 0; // caught up: the input is quiet, its clock runs on with the wall clock
        send("b", event("b", 1, 1), 10_001);
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).extracting(TimedChunk::key).containsExactly("b");
        assertThat(barriers).isEqualTo(1);
    }

    @Test
    void aTaskWhoseInputEndedWritesNoBarrierWhileAnotherTaskFeedingItsChunkLogIsBehind() throws Exception {
        driver.close();
        final long[] feedersLag = {7}; // another input partition of this instance, same chunk log, not fetched yet
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
            return d;
        }, KeyFormats.TEXT, new EventLimits(8, 16, 4, 4096), counters, CHUNK, Duration.ofSeconds(5),
                InputGuards.DEFAULTS, partition -> 0, partition -> feedersLag[0]), props());
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        send("a", event("a", 1, 1), 10_000); // this partition's input ends here
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).as("flushed on time all the same").extracting(TimedChunk::key).containsExactly("a");
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertThat(chunks()).isEmpty();
        assertThat(barriers).as("the other task's backlog still feeds the log: no barrier").isZero();
        feedersLag[0] = 0;
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        assertThat(chunks()).isEmpty();
        assertThat(barriers).as("every feeder caught up: the input is quiet, one barrier").isEqualTo(1);
    }

    @Test
    void aChunkIsHandedOverAfterTenMaximumWaitsEvenWhileCatchingUp() throws Exception {
        send("a", event("a", 1, 1), 10_000);
        for (int i = 1; i <= 15; i++) {
            driver.advanceWallClockTime(Duration.ofSeconds(4));
            if (chunks().stream().anyMatch(c -> c.key().equals("a"))) {
                assertThat(i * 4L).as("handed over at the first check after 10 waits of 5 s")
                        .isBetween(ChunkingProcessor.CATCH_UP_CAP * 5L, ChunkingProcessor.CATCH_UP_CAP * 5L + 4);
                return;
            }
            send("b", event("b", i, 1), 10_000 + i); // busy input whose clock hardly moves
        }
        throw new AssertionError("a's chunk was never handed over");
    }

    @Test
    void everyKindOfBadRecordGoesToTheDeadLetterTopicWithItsReasonAndOriginalBytes() {
        final byte[] valid = serializer.serialize(topics.events(), event("k", 10, 1));
        final byte[] wrongMagic = valid.clone();
        wrongMagic[0] = 7;
        final byte[] unknownId = ByteBuffer.allocate(valid.length).put((byte) 0).putInt(987654)
                .put(valid, 5, valid.length - 5).array();
        final byte[] garbage = Arrays.copyOf(valid, 9);
        garbage[5] = (byte) 0xff;
        garbage[6] = (byte) 0xff;
        final List<String> expected = List.of("wrong-magic-byte", "too-short", "unknown-schema-id", "malformed-avro",
                "missing-key", "key-mismatch", "non-finite-feature", "event-type-out-of-range",
                "feature-index-out-of-range", "feature-indices-not-increasing", "oversized-event", "null-value",
                "timestamp-out-of-order");
        sendRaw("k", wrongMagic);
        sendRaw("k", new byte[] {0, 0});
        sendRaw("k", unknownId);
        sendRaw("k", garbage);
        send(null, event("k", 10, 1));
        send("other", event("k", 10, 1));
        send("k", event("k", 10, 1, new int[] {2}, new float[] {Float.NaN}));
        send("k", event("k", 10, 8));
        send("k", event("k", 10, 1, new int[] {16}, new float[] {1f}));
        send("k", event("k", 10, 1, new int[] {3, 2}, new float[] {1f, 1f}));
        send("k", event("k", 10, 1, new int[] {0, 1, 2, 3, 4}, new float[] {1f, 1f, 1f, 1f, 1f}));
        sendRaw("k", null);
        send("k", event("k", 100, 1)); // valid
        send("k", event("k", 99, 1));  // earlier than the previous event of k
        final List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertThat(dead).extracting(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                .containsExactlyElementsOf(expected);
        assertThat(dead.get(0).value()).isEqualTo(wrongMagic);
        assertThat(dead.get(2).value()).isEqualTo(unknownId);
        assertThat(DeadLetterHeaders.get(dead.get(2).headers(), DeadLetterHeaders.MESSAGE)).contains("987654");
        assertThat(DeadLetterHeaders.get(dead.get(0).headers(), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("events");
        assertThat(DeadLetterHeaders.get(dead.get(0).headers(), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("0");
        assertThat(DeadLetterHeaders.get(dead.get(12).headers(), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("13");
        assertThat(new String(dead.get(5).key(), StandardCharsets.UTF_8)).isEqualTo("other");
        assertThat(counters.consumed()).isEqualTo(14);
        assertThat(counters.deadLettered()).isEqualTo(13);
        assertThat(counters.accepted()).isEqualTo(1);
        assertThat(counters.consumed()).isEqualTo(counters.accepted() + counters.deadLettered());
        assertThat(counters.deadLetteredByReason()).containsEntry("wrong-magic-byte", 1L).hasSize(13);
    }

    @Test
    void openChunksLiveInTheStateStores() {
        send("s", event("s", 5, 2));
        send("s", event("s", 6, 3));
        assertThat(driver.<String, byte[]>getKeyValueStore(SpillwayTopology.STORE).get("s"))
                .as("one store write per event: the meta is written at hand-off").isNull();
        final KeyValueStore<String, byte[]> events = driver.getKeyValueStore(SpillwayTopology.EVENT_STORE);
        assertThat(entries(events)).isEqualTo(2);
        assertThat(OpenChunk.decodeEvent(events.get(OpenChunk.eventKey("s", 1))).event().eventType()).isEqualTo(3);
        send("s", event("s", 7, 4));
        send("s", event("s", 8, 5)); // completes the chunk: the buffered events leave the store
        assertThat(entries(events)).isZero();
        assertThat(OpenChunk.decodeMeta(driver.<String, byte[]>getKeyValueStore(SpillwayTopology.STORE).get("s")))
                .extracting(OpenChunk.Meta::lastTimestampMs, OpenChunk.Meta::size, OpenChunk.Meta::previousTimestampMs)
                .containsExactly(8L, 0, 8L);
    }

    @Test
    void openChunksAreRestoredFromTheStoresInOrderWithTheKeysPreviousEventTime() {
        final java.util.TreeMap<String, byte[]> events = new java.util.TreeMap<>();
        final SparseEvent e = new SparseEvent(3, new int[] {1}, new float[] {0.5f}, SparseEvent.NO_LABEL);
        events.put(OpenChunk.eventKey("b", 0), OpenChunk.encodeEvent(20, 7, e));
        events.put(OpenChunk.eventKey("a", 1), OpenChunk.encodeEvent(11, 5, e));
        events.put(OpenChunk.eventKey("a", 0), OpenChunk.encodeEvent(10, 4, e));
        events.put(OpenChunk.eventKey("ab", 0), OpenChunk.encodeEvent(30, 9, e));
        final Map<String, OpenChunk.Meta> metas = Map.of(
                "a", OpenChunk.Meta.handedOver(9, 100), // written at a hand-off: its last event is the previous one
                "ab", new OpenChunk.Meta(29, 1_000, 1, 25, -1)); // written per event by an earlier version
        final Map<String, ChunkingProcessor.Open> open = ChunkingProcessor.restore(events.entrySet().stream()
                .map(x -> org.apache.kafka.streams.KeyValue.pair(x.getKey(), x.getValue())).iterator(),
                key -> metas.getOrDefault(key, OpenChunk.Meta.EMPTY), 5_000);
        assertThat(open).containsOnlyKeys("a", "ab", "b");
        assertThat(open.get("a").events()).extracting(OpenChunk.Buffered::sourceOffset).containsExactly(4L, 5L);
        assertThat(open.get("a").previousTimestampMs()).isEqualTo(9);
        assertThat(open.get("a").lastTimestampMs()).isEqualTo(11);
        assertThat(open.get("ab").previousTimestampMs()).isEqualTo(25);
        assertThat(open.get("b").previousTimestampMs()).as("a key never handed over").isEqualTo(-1);
        assertThat(open.get("b").openedAtMs()).as("restored chunks count as opened now").isEqualTo(5_000);
        assertThat(open.get("b").openedAtInputMs()).isNull();
        events.remove(OpenChunk.eventKey("a", 0));
        assertThatThrownBy(() -> ChunkingProcessor.restore(events.entrySet().stream()
                .map(x -> org.apache.kafka.streams.KeyValue.pair(x.getKey(), x.getValue())).iterator(),
                key -> OpenChunk.Meta.EMPTY, 0)).hasMessageContaining("position 1 after 0");
    }

    @Test
    void theStoredStatePerKeyDoesNotGrowWithTheChunkLength() throws Exception {
        driver.close();
        final int longChunk = 3000;
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, REGISTRY), false);
            return d;
        }, new EventLimits(8, 16, 4, 4096), counters, longChunk, Duration.ofMinutes(5)), props());
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (int t = 0; t < longChunk - 1; t++) {
            send("long", event("long", t, t % 8));
        }
        final KeyValueStore<String, byte[]> events = driver.getKeyValueStore(SpillwayTopology.EVENT_STORE);
        int largest = 0;
        try (KeyValueIterator<String, byte[]> it = events.all()) {
            while (it.hasNext()) {
                largest = Math.max(largest, it.next().value.length);
            }
        }
        assertThat(largest).as("one small entry per event, not one growing blob").isLessThan(64);
        assertThat(driver.<String, byte[]>getKeyValueStore(SpillwayTopology.STORE).get("long")).as("written at hand-off")
                .isNull();
        assertThat(chunks()).isEmpty();
        send("long", event("long", longChunk, 1));
        assertThat(driver.<String, byte[]>getKeyValueStore(SpillwayTopology.STORE).get("long")).hasSizeLessThan(64);
        final TimedChunk chunk = chunks().get(0);
        assertThat(chunk.size()).isEqualTo(longChunk);
        for (int t = 0; t < longChunk - 1; t++) {
            assertThat(chunk.chunk().events().get(t).eventType()).isEqualTo(t % 8);
        }
        assertThat(entries(events)).isZero();
    }

    @Test
    void moreBadRecordKindsAreDeadLettered() throws Exception {
        final Event mismatch = event("k", 10, 1);
        mismatch.getFeatures().setValues(List.of(1f));
        final Event badLabel = event("k", 10, 1);
        badLabel.setLabel(8);
        input.pipeInput(new byte[] {'k', 0, 'x'}, serializer.serialize(topics.events(), event("k", 10, 1)));
        input.pipeInput(new byte[] {(byte) 0xc3, (byte) 0x28}, serializer.serialize(topics.events(), event("k", 10, 1)));
        send("k", event("k", -1, 1));
        send("k", badLabel);
        send("k", mismatch);
        sendRaw("k", foreignSchemaRecord());
        send("k", event("k", 10, 1)); // valid
        assertThat(dlq.readRecordsToList()).extracting(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                .containsExactly("invalid-key", "invalid-key", "negative-timestamp", "label-out-of-range",
                        "feature-length-mismatch", "incompatible-schema");
        assertThat(counters.consumed()).isEqualTo(7);
        assertThat(counters.accepted()).isEqualTo(1);
        assertThat(counters.consumed()).isEqualTo(counters.accepted() + counters.deadLettered());
    }

    /** Wire-format bytes under a registered schema that cannot be read as an Event. */
    private static byte[] foreignSchemaRecord() throws Exception {
        final Schema foreign = new Schema.Parser().parse(
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[{\"name\":\"x\",\"type\":\"string\"}]}");
        final int id = SchemaRegistryClients.create(REGISTRY, Map.of()).register("other-value", foreign);
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

    private static int entries(final KeyValueStore<String, byte[]> store) {
        int n = 0;
        try (KeyValueIterator<String, byte[]> it = store.all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    @SuppressWarnings("unused")
    private static Instant at(final long ms) {
        return Instant.ofEpochMilli(ms);
    }
}
