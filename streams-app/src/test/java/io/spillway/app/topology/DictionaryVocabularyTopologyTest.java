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
 * takes no id.
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
        final Properties m = new Properties();
        m.load(new StringReader(mapping));
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dictionary-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> null, KeyFormats.TEXT,
                new ValueFormats(ValueFormat.JSON, FieldMapping.parse(m), () -> null),
                new EventLimits(VOCABULARY, 4, 8, 4096), counters, CHUNK, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                p -> -1, p -> -1), props, Instant.ofEpochMilli(System.currentTimeMillis()));
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
}
