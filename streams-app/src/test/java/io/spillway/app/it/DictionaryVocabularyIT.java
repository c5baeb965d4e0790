package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.AppConfig;
import io.spillway.app.Formats;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.Topics;
import io.spillway.app.topology.ValueFormat;
import io.spillway.app.vocabulary.VocabularyReader;
import io.spillway.app.vocabulary.VocabularyTopic;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.CleanupMode;

/**
 * Issue 17 item 3: a clickstream of the test's own schema (string user id, string page, {@code timestamp-millis}
 * time, double dwell), written by Confluent's own Python {@code AvroProducer} with Avro string keys, trained with
 * {@code type.vocabulary = dictionary}. The pages get exact ids in first-seen order; the dictionary survives a
 * restart that has lost its local state (restored from the compacted changelog) and goes on from where it was,
 * up to the overflow class; every click trains; and the predictions carry the pages' names beside the ids.
 */
class DictionaryVocabularyIT {
    private static final Set<String> PAGES = Set.of("/home", "/search", "/product", "/cart", "/checkout", "/help");
    private static final int USERS = 6;
    /** Ids 0..6 for pages, 7 the overflow class: the six pages, then one of the two promotions, fit. */
    private static final int VOCABULARY = 8;
    private static final String MAPPING = """
            entity = $key
            time = at
            type = page
            type.vocabulary = dictionary
            features = dwellSeconds
            """;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @BeforeAll
    static void requirePeer() throws Exception {
        ConfluentPeer.assumeAvailable();
    }

    private AppConfig config(final String bootstrap, final String registry) throws Exception {
        final Path file = dir.resolve("clicks.mapping");
        Files.writeString(file, MAPPING);
        return TestApps.withFormats(TestApps.config(bootstrap, registry, dir.resolve("state"), VOCABULARY),
                new Formats(KeyFormat.AUTO, null, KeyFormat.TEXT).withValues(ValueFormat.AUTO, FieldMapping.load(file)));
    }

    @Test
    void pagesKeepTheirIdsAcrossARestartThatLostItsStateAndPredictionsCarryThePages() throws Exception {
        final int first = 1_200;
        final int second = 1_200;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("events", 1, (short) 1))).all().get();
            }
            final AppConfig config = config(bootstrap, url);
            final String vocabularyTopic = VocabularyTopic.name(config.applicationId());
            final Map<Integer, String> afterFirst;
            try (SpillwayApp app = SpillwayApp.start(config)) {
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                assertThat(python("click-produce", bootstrap, url, "events", Integer.toString(first),
                        Integer.toString(USERS), Integer.toString(first), "0"))
                        .contains("{\"produced\": " + first + "}");
                TestApps.await("the first clicks trained", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= first);
                assertThat(app.trainer().eventsTrained()).as("every click").isEqualTo(first);
                afterFirst = dictionary(bootstrap, vocabularyTopic);
            }
            assertThat(afterFirst.keySet()).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
            assertThat(Set.copyOf(afterFirst.values())).isEqualTo(PAGES);
            // first-seen order: user-0's first click is /home, user-1's (the same step) also /home, then ...
            assertThat(afterFirst.get(0)).isEqualTo("/home");

            // The restart has lost its local state: the stream task restores the dictionary from the changelog.
            deleteRecursively(dir.resolve("state"));
            try (SpillwayApp app = SpillwayApp.start(config)) {
                assertThat(python("click-produce", bootstrap, url, "events", Integer.toString(second),
                        Integer.toString(USERS), Integer.toString(second), "0", Integer.toString(first), "2"))
                        .contains("{\"produced\": " + second + "}");
                TestApps.await("the second clicks trained", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrainedTotal() + app.counters().deadLettered() >= first + second);
                assertThat(app.counters().deadLettered()).isZero();
                assertThat(app.trainer().eventsTrainedTotal()).as("every click of both runs").isEqualTo(first + second);
            }
            final Map<Integer, String> afterSecond = dictionary(bootstrap, vocabularyTopic);
            assertThat(afterSecond).as("the first run's ids, unchanged").containsAllEntriesOf(afterFirst);
            assertThat(afterSecond).as("one promotion took id 6; the other is the overflow class 7, never stored")
                    .hasSize(7).containsKey(6).doesNotContainKey(7);
            assertThat(afterSecond.get(6)).isIn("/promo-0", "/promo-1");

            final List<ConsumerRecord<byte[], Prediction>> predictions = TestApps.readAll(bootstrap, url,
                    Topics.defaults().predictions(), Prediction.class);
            assertThat(predictions).hasSizeGreaterThan((first + second) / 2);
            final Map<String, Integer> seen = new HashMap<>();
            for (final ConsumerRecord<byte[], Prediction> r : predictions) {
                final Prediction p = r.value();
                if (p.getPredictedEventType() < 6) {
                    assertThat(str(p.getPredictedCategory())).as("the predicted page's name")
                            .isEqualTo(afterFirst.get(p.getPredictedEventType()));
                } else {
                    // id 6 had no page before the promotion took it; 7 is the overflow class
                    assertThat(str(p.getPredictedCategory())).isIn(null, afterSecond.get(p.getPredictedEventType()));
                }
                if (p.getActualEventType() != null) {
                    assertThat(str(p.getActualCategory())).isEqualTo(afterSecond.get(p.getActualEventType()));
                    seen.merge(String.valueOf(str(p.getActualCategory())), 1, Integer::sum);
                }
            }
            assertThat(seen.keySet()).as("targets by page, null for the overflow class")
                    .containsAll(PAGES).contains(afterSecond.get(6), "null");
            System.out.printf("DictionaryVocabularyIT: dictionary %s; %d predictions, targets by page %s%n",
                    afterSecond, predictions.size(), seen);
        }
    }

    @Test
    void aDictionaryOnAnInputOfSeveralPartitionsIsRefusedAtStart() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            // TestApps' configuration creates the input with 2 partitions
            assertThatThrownBy(() -> SpillwayApp.start(config(kafka.bootstrapServers(), registry.url().toString())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("one partition").hasMessageContaining("events has 2");
        }
    }

    private static String str(final CharSequence s) {
        return s == null ? null : s.toString();
    }

    private static Map<Integer, String> dictionary(final String bootstrap, final String topic) {
        try (VocabularyReader reader = new VocabularyReader(Map.of("bootstrap.servers", bootstrap), topic, VOCABULARY)) {
            return reader.all();
        }
    }

    private static void deleteRecursively(final Path root) throws Exception {
        try (var paths = Files.walk(root)) {
            for (final Path p : paths.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
    }

    private List<String> python(final String... args) throws Exception {
        return ConfluentPeer.run(dir, args);
    }
}
