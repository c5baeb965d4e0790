package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.vocabulary.VocabularyTopic;
import io.spillway.engine.SparseEvent;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code type.vocabulary = dictionary} in the topology: the stream task gives text categories ids in first-seen
 * order, keeps them in its changelogged store, maps the overflow to the last id, and a record it dead-letters
 * takes no id. On an input of several partitions the records go through one sequence partition first, whose order
 * gives the ids, and dead letters still name the input position.
 */
class DictionaryVocabularyTopologyTest {
    private static final int CHUNK = 3;
    private static final int VOCABULARY = 5;

    private final Topics topics = Topics.defaults();
    private final PipelineCounters counters = new PipelineCounters();
    @TempDir
    Path dir;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> dlq;
    private TestOutputTopic<byte[], byte[]> chunkTopic;

    @AfterEach
    void tearDown() {
        if (driver != null) {
            driver.close();
        }
    }

    private void start(final String mapping) throws Exception {
        start(mapping, null);
    }

    private void start(final String mapping, final String sequence) throws Exception {
        start(mapping, sequence, 1);
    }

    /** @param sequence the dictionary sequence topic, null for an input of one partition */
    private void start(final String mapping, final String sequence, final int chunkLogPartitions) throws Exception {
        final Properties m = new Properties();
        m.load(new StringReader(mapping));
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dictionary-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> null, KeyFormats.TEXT,
                new ValueFormats(ValueFormat.JSON, FieldMapping.parse(m), () -> null),
                new EventLimits(VOCABULARY, 4, 8, 4096), counters, CHUNK, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                p -> -1, p -> -1, sequence, chunkLogPartitions), props, Instant.ofEpochMilli(System.currentTimeMillis()));
        input = driver.createInputTopic(topics.events(), new ByteArraySerializer(), new ByteArraySerializer());
        dlq = driver.createOutputTopic(topics.deadLetters(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        chunkTopic = driver.createOutputTopic(topics.chunks(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private void click(final String user, final String page, final long at) {
        input.pipeInput(user.getBytes(StandardCharsets.UTF_8), ("{\"page\":\"" + page + "\",\"at\":" + at
                + ",\"dwell\":1.5}").getBytes(StandardCharsets.UTF_8), Instant.now());
    }

    private Map<String, List<Integer>> typesByKey() {
        final Map<String, List<Integer>> out = new TreeMap<>();
        for (final TestRecord<byte[], byte[]> r : chunkTopic.readRecordsToList()) {
            if (!ChunkRecords.isBarrier(r.value())) {
                final TimedChunk c = ChunkRecords.decode(r.key(), r.value());
                c.chunk().events().forEach(e -> out.computeIfAbsent(c.key(), k -> new ArrayList<>()).add(e.eventType()));
            }
        }
        return out;
    }

    private Map<String, Integer> dictionary() {
        final KeyValueStore<String, Integer> store = driver.getKeyValueStore(VocabularyTopic.STORE);
        final Map<String, Integer> out = new TreeMap<>();
        try (var all = store.all()) {
            all.forEachRemaining((KeyValue<String, Integer> kv) -> out.put(kv.key, kv.value));
        }
        return out;
    }

    @Test
    void categoriesTakeIdsInFirstSeenOrderAcrossKeysAndTheOverflowTakesTheLastId() throws Exception {
        start("type=page\ntype.vocabulary=dictionary\ntime=at\nfeatures=dwell\n");
        click("u1", "/home", 1);
        click("u2", "/cart", 1);
        click("u1", "/search", 2);
        click("u2", "/home", 2);
        // out of order for u1: dead-lettered, and its new page takes no id
        click("u1", "/never", 0);
        click("u1", "/help", 3);
        click("u2", "/checkout", 3);
        click("u2", "/pricing", 4);
        click("u2", "/cart", 5);
        click("u2", "/about", 6);
        assertThat(dlq.readRecordsToList()).singleElement().satisfies(r -> assertThat(
                DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON)).isEqualTo("timestamp-out-of-order"));
        assertThat(typesByKey()).isEqualTo(Map.of(
                "u1", List.of(0, 2, 3),
                "u2", List.of(1, 0, 4, 4, 1, 4)));
        assertThat(dictionary()).as("ids 0..3 kept; the overflow class 4 is never stored")
                .isEqualTo(Map.of("/home", 0, "/cart", 1, "/search", 2, "/help", 3));
        assertThat(counters.vocabularyOverflows()).as("/checkout, /pricing, /about took the overflow class")
                .isEqualTo(3);
        assertThat(counters.vocabularyCategories()).isEqualTo(4);
    }

    @Test
    void theLabelSharesTheTypesDictionaryAndIntegerTypesPassAsIds() throws Exception {
        start("type=page\ntype.vocabulary=dictionary\nlabel=next\nlabel.vocabulary=dictionary\ntime=at\n");
        for (final String json : List.of("{\"page\":\"/cart\",\"at\":1,\"next\":\"/buy\"}",
                "{\"page\":\"/buy\",\"at\":2,\"next\":\"/cart\"}", "{\"page\":\"/cart\",\"at\":3}")) {
            input.pipeInput("u".getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), Instant.now());
        }
        final List<TestRecord<byte[], byte[]>> chunks = chunkTopic.readRecordsToList().stream()
                .filter(r -> !ChunkRecords.isBarrier(r.value())).toList();
        assertThat(chunks).singleElement().satisfies(r -> {
            final List<SparseEvent> events = ChunkRecords.decode(r.key(), r.value()).chunk().events();
            assertThat(events).extracting(SparseEvent::eventType).containsExactly(0, 1, 0);
            assertThat(events).extracting(SparseEvent::label).containsExactly(1, 0, SparseEvent.NO_LABEL);
        });
        assertThat(dictionary()).isEqualTo(Map.of("/cart", 0, "/buy", 1));
    }

    private static final String SEQUENCE = DictionarySequence.topic("dictionary-test");
    private static final String CLICKS = "type=page\ntype.vocabulary=dictionary\ntime=at\nfeatures=dwell\n";

    /** A click as the sequencer writes it: from input partition {@code partition} at {@code offset}. */
    private TestRecord<byte[], byte[]> sequenced(final String user, final String page, final long at,
                                                 final int partition, final long offset) {
        final TestRecord<byte[], byte[]> r = new TestRecord<>(user.getBytes(StandardCharsets.UTF_8),
                ("{\"page\":\"" + page + "\",\"at\":" + at + ",\"dwell\":1.5}").getBytes(StandardCharsets.UTF_8),
                Instant.now());
        r.headers().add("user-header", "kept".getBytes(StandardCharsets.UTF_8));
        DictionarySequence.stamp(r.headers(), new SourcePosition(topics.events(), partition, offset));
        return r;
    }

    @Test
    void anInputOfSeveralPartitionsGoesThroughOneSequenceWhoseOrderGivesTheIds() throws Exception {
        start(CLICKS, SEQUENCE);
        final TestInputTopic<byte[], byte[]> sequence = driver.createInputTopic(SEQUENCE, new ByteArraySerializer(),
                new ByteArraySerializer());
        // three input partitions, one user each, interleaved as the one sequence partition shows them
        sequence.pipeInput(sequenced("u2", "/help", 1, 2, 40));
        sequence.pipeInput(sequenced("u0", "/home", 1, 0, 10));
        sequence.pipeInput(sequenced("u1", "/home", 1, 1, 20));
        sequence.pipeInput(sequenced("u1", "/cart", 2, 1, 21));
        sequence.pipeInput(sequenced("u0", "/cart", 2, 0, 11));
        // out of order for u2: dead-lettered, naming its input position; its new page takes no id
        sequence.pipeInput(sequenced("u2", "/never", 0, 2, 41));
        sequence.pipeInput(sequenced("u2", "/search", 2, 2, 42));
        sequence.pipeInput(sequenced("u0", "/search", 3, 0, 12));
        sequence.pipeInput(sequenced("u1", "/help", 3, 1, 22));
        sequence.pipeInput(sequenced("u2", "/home", 3, 2, 43));

        assertThat(dictionary()).as("one id per page, in the sequence's first-seen order, whatever the partition")
                .isEqualTo(Map.of("/help", 0, "/home", 1, "/cart", 2, "/search", 3));
        assertThat(typesByKey()).isEqualTo(Map.of(
                "u0", List.of(1, 2, 3),
                "u1", List.of(1, 2, 0),
                "u2", List.of(0, 3, 1)));
        assertThat(dlq.readRecordsToList()).singleElement().satisfies(r -> {
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON)).isEqualTo("timestamp-out-of-order");
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(topics.events());
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("2");
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("41");
            assertThat(DeadLetterHeaders.get(r.headers(), "user-header")).isEqualTo("kept");
            assertThat(r.headers().toArray()).as("the sequence headers are not passed on")
                    .noneMatch(h -> h.key().startsWith(DictionarySequence.PREFIX));
        });
        assertThat(counters.consumed()).isEqualTo(10);
    }

    @Test
    void theSequencerWritesEachRecordsInputPositionOverAForgedOne() throws Exception {
        start(CLICKS, SEQUENCE);
        final TestOutputTopic<byte[], byte[]> sequence = driver.createOutputTopic(SEQUENCE,
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        click("u1", "/home", 5);
        final TestRecord<byte[], byte[]> forged = new TestRecord<>("u1".getBytes(StandardCharsets.UTF_8),
                "{\"page\":\"/late\",\"at\":1,\"dwell\":1.5}".getBytes(StandardCharsets.UTF_8), Instant.now());
        forged.headers().add(DictionarySequence.SOURCE_TOPIC, "elsewhere".getBytes(StandardCharsets.UTF_8));
        forged.headers().add(DictionarySequence.SOURCE_PARTITION, "7".getBytes(StandardCharsets.UTF_8));
        forged.headers().add(DictionarySequence.SOURCE_OFFSET, "999".getBytes(StandardCharsets.UTF_8));
        forged.headers().add(DictionarySequence.SOURCE_OFFSET, "998".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(forged);

        final List<TestRecord<byte[], byte[]>> written = sequence.readRecordsToList();
        assertThat(written).hasSize(2);
        final TestRecord<byte[], byte[]> second = written.get(1);
        assertThat(second.key()).isEqualTo(forged.key());
        assertThat(second.value()).isEqualTo(forged.value());
        assertThat(second.timestamp()).isEqualTo(forged.timestamp());
        assertThat(second.headers().toArray()).as("one of each, the sequencer's")
                .extracting(h -> h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8))
                .containsExactly(DictionarySequence.SOURCE_TOPIC + "=" + topics.events(),
                        DictionarySequence.SOURCE_PARTITION + "=0", DictionarySequence.SOURCE_OFFSET + "=1");
        assertThat(dlq.readRecordsToList()).singleElement().satisfies(r -> {
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON)).isEqualTo("timestamp-out-of-order");
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(topics.events());
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("0");
            assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("1");
        });
        assertThat(dictionary()).isEqualTo(Map.of("/home", 0));
    }

    @Test
    void theInputsTimeGuardRulesBeforeTheSequence() throws Exception {
        start(CLICKS, SEQUENCE);
        final long future = System.currentTimeMillis() + Duration.ofDays(30).toMillis();
        input.pipeInput(new TestRecord<>("u1".getBytes(StandardCharsets.UTF_8),
                "{\"page\":\"/late\",\"at\":1,\"dwell\":1.5}".getBytes(StandardCharsets.UTF_8), null, future));
        final TestRecord<byte[], byte[]> forged = new TestRecord<>("u2".getBytes(StandardCharsets.UTF_8),
                "{\"page\":\"/home\",\"at\":1,\"dwell\":1.5}".getBytes(StandardCharsets.UTF_8), Instant.now());
        forged.headers().add(DeadLetterHeaders.ORIGINAL_TIMESTAMP, "-5".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(forged);
        assertThat(dlq.readRecordsToList()).as("the guard's verdict crosses the sequence; a forged one does not")
                .singleElement().satisfies(r -> {
                    assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                            .isEqualTo("invalid-record-timestamp");
                    assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.ORIGINAL_TIMESTAMP))
                            .isEqualTo(Long.toString(future));
                    assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("0");
                });
        assertThat(dictionary()).isEqualTo(Map.of("/home", 0));
    }

    @Test
    void chunksAndBarriersOfTheSequenceNameTheirInputPartitions() throws Exception {
        start(CLICKS, SEQUENCE, 2);
        sequence().pipeInput(sequenced("u0", "/home", 1, 0, 10));
        sequence().pipeInput(sequenced("u1", "/home", 1, 1, 20));
        sequence().pipeInput(sequenced("u0", "/cart", 2, 0, 11));
        sequence().pipeInput(sequenced("u1", "/cart", 2, 1, 21));
        sequence().pipeInput(sequenced("u0", "/help", 3, 0, 12));
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        final List<String> log = chunkTopic.readRecordsToList().stream().map(r -> ChunkRecords.isBarrier(r.value())
                ? "barrier@" + ChunkRecords.sourcePartition(r.value())
                : ChunkRecords.decode(r.key(), r.value()).key() + "@" + ChunkRecords.sourcePartition(r.value()))
                .toList();
        assertThat(log).as("u0's full chunk, u1's flushed one, then a barrier to each chunk-log partition")
                .containsExactly("u0@0", "u1@1", "barrier@0", "barrier@1");
    }

    private TestInputTopic<byte[], byte[]> sequence() {
        return driver.createInputTopic(SEQUENCE, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Test
    void onlyASequencedTopologyHasTheSequenceSubTopology() {
        final Properties m = new Properties();
        m.setProperty("type", "page");
        m.setProperty("type.vocabulary", "dictionary");
        m.setProperty("time", "at");
        final ValueFormats values = new ValueFormats(ValueFormat.JSON, FieldMapping.parse(m), () -> null);
        final var direct = SpillwayTopology.build(topics, () -> null, KeyFormats.TEXT, values,
                new EventLimits(VOCABULARY, 4, 8, 4096), counters, CHUNK, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                p -> -1, p -> -1).describe();
        final var sequenced = SpillwayTopology.build(topics, () -> null, KeyFormats.TEXT, values,
                new EventLimits(VOCABULARY, 4, 8, 4096), counters, CHUNK, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                p -> -1, p -> -1, SEQUENCE, 1).describe();
        assertThat(direct.subtopologies()).hasSize(1);
        assertThat(direct.toString()).doesNotContain(SEQUENCE);
        assertThat(sequenced.subtopologies()).hasSize(2);
        assertThat(sequenced.toString()).contains("Source: " + SpillwayTopology.SEQUENCE_SOURCE + " (topics: ["
                + SEQUENCE + "])").contains("Sink: " + SpillwayTopology.SEQUENCE_SINK + " (topic: " + SEQUENCE + ")");
    }
}
