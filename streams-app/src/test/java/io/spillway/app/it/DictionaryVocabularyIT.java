package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.AppConfig;
import io.spillway.app.Formats;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.DictionarySequence;
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
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
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
 * up to the overflow class; every click trains; and the predictions carry the pages' names beside the ids. On an
 * input of two partitions the clicks go through the dictionary's one sequence: each page gets one id, every click
 * trains or is dead-lettered naming its input position; two instances on four partitions share the sequencing, one
 * chunks, and their replicas agree exactly; with split training each input partition's chunks go to a chunk-log
 * partition of their own.
 */
class DictionaryVocabularyIT {
    /** The pages of confluent_peer.py's clickstream. */
    static final Set<String> PAGES = Set.of("/home", "/search", "/product", "/cart", "/checkout", "/help");
    static final int USERS = 6;
    /** Ids 0..6 for pages, 7 the overflow class: the six pages, then one of the two promotions, fit. */
    private static final int VOCABULARY = 8;
    /** The clickstream's mapping with the dictionary vocabulary. */
    static final String MAPPING = """
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
            TestApps.createTopic(bootstrap, "events", 1);
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
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    assertThat(admin.listTopics().names().get()).as("one partition: chunked where it is read")
                            .doesNotContain(DictionarySequence.topic(config.applicationId()));
                }
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
    void anInputOfSeveralPartitionsGoesThroughOneSequenceAndEveryClickTrainsWithOnePagesIdEverywhere()
            throws Exception {
        final int clicks = 1_200;
        final int bad = 30;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            // TestApps' configuration creates the input with 2 partitions
            final AppConfig config = config(bootstrap, url).toBuilder().kafkaOverrides(Map.of("commit.interval.ms",
                    200, "repartition.purge.interval.ms", 300)).build();
            final Map<Integer, String> dictionary;
            try (SpillwayApp app = SpillwayApp.start(config)) {
                final String sequence = DictionarySequence.topic(config.applicationId());
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                // user-u's clicks on partition u % 2; one more page than the six; the last clicks lack the page
                assertThat(python("click-produce", bootstrap, url, "events", Integer.toString(clicks),
                        Integer.toString(USERS), Integer.toString(clicks), Integer.toString(bad), "0", "1", "2"))
                        .contains("{\"produced\": " + (clicks + bad) + "}");
                TestApps.await("every click trained or dead-lettered", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= clicks + bad);
                assertThat(app.counters().consumed()).as("consumed").isEqualTo(clicks + bad);
                assertThat(app.trainer().eventsTrained()).as("every click with a page").isEqualTo(clicks);
                assertThat(app.counters().deadLettered()).as("the clicks without one").isEqualTo(bad);
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    final var topics = admin.describeTopics(List.of("events", sequence)).allTopicNames().get();
                    assertThat(topics.get("events").partitions()).hasSize(2);
                    assertThat(topics.get(sequence).partitions()).as("the dictionary's one sequence").hasSize(1);
                    final TopicPartition tp = new TopicPartition(sequence, 0);
                    TestApps.await("the sequence purged of what the chunking task committed", Duration.ofSeconds(30),
                            () -> earliest(admin, tp) >= clicks + bad);
                }
                dictionary = dictionary(bootstrap, VocabularyTopic.name(config.applicationId()));
            }
            assertThat(dictionary).as("each page once, ids 0..6 (7, the overflow class, unused)")
                    .hasSize(7).containsOnlyKeys(0, 1, 2, 3, 4, 5, 6);
            assertThat(Set.copyOf(dictionary.values())).hasSize(7).containsAll(PAGES).contains("/promo-0");
            assertThat(dictionary.get(0)).as("user-0's and user-1's first clicks, on both partitions").isEqualTo("/home");

            final List<ConsumerRecord<byte[], Prediction>> letters = TestApps.readAll(bootstrap, url,
                    Topics.defaults().deadLetters(), null);
            assertThat(letters).hasSize(bad).allSatisfy(r -> {
                assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("events");
                assertThat(r.headers().toArray()).noneMatch(h -> h.key().startsWith(DictionarySequence.PREFIX));
            });
            assertThat(letters.stream().map(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION)
                    + "@" + DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET)).distinct())
                    .as("each names its own input position, on both partitions").hasSize(bad)
                    .anyMatch(p -> p.startsWith("0@")).anyMatch(p -> p.startsWith("1@"));

            final List<ConsumerRecord<byte[], Prediction>> predictions = TestApps.readAll(bootstrap, url,
                    Topics.defaults().predictions(), Prediction.class);
            assertThat(predictions).hasSizeGreaterThan(clicks / 2);
            for (final ConsumerRecord<byte[], Prediction> r : predictions) {
                final Prediction p = r.value();
                assertThat(str(p.getPredictedCategory())).as("the predicted page's name")
                        .isEqualTo(dictionary.get(p.getPredictedEventType()));
                if (p.getActualEventType() != null) {
                    assertThat(str(p.getActualCategory())).isNotNull()
                            .isEqualTo(dictionary.get(p.getActualEventType()));
                }
            }
            System.out.printf("DictionaryVocabularyIT (2 partitions): dictionary %s; %d predictions%n", dictionary,
                    predictions.size());
        }
    }

    /**
     * Two instances on four input partitions: each sequences the partitions it is given, one of them chunks the
     * sequence, and both train replicas over the one chunk log with the one dictionary, ending equal.
     */
    @Test
    void twoInstancesShareTheSequencingAndTheirReplicasAgree() throws Exception {
        final int clicks = 1_200;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            TestApps.createTopic(bootstrap, "events", 4);
            final AppConfig base = config(bootstrap, url);
            try (SpillwayApp a = SpillwayApp.start(instance(base, "a"));
                 SpillwayApp b = SpillwayApp.start(instance(base, "b"))) {
                TestApps.await("both instances running", Duration.ofSeconds(60),
                        () -> a.streamsState() == org.apache.kafka.streams.KafkaStreams.State.RUNNING
                                && b.streamsState() == org.apache.kafka.streams.KafkaStreams.State.RUNNING);
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                assertThat(python("click-produce", bootstrap, url, "events", Integer.toString(clicks),
                        Integer.toString(USERS), Integer.toString(clicks), "0", "0", "1", "4"))
                        .contains("{\"produced\": " + clicks + "}");
                TestApps.await("both replicas trained every click", Duration.ofSeconds(120),
                        () -> a.trainer().eventsTrained() >= clicks && b.trainer().eventsTrained() >= clicks
                                && a.trainer().position() == b.trainer().position()
                                && a.learner().version() == b.learner().version());
                assertThat(a.counters().consumed() + b.counters().consumed()).as("each click chunked once")
                        .isEqualTo(clicks);
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    final var members = admin.describeConsumerGroups(List.of(base.applicationId())).all().get()
                            .get(base.applicationId()).members();
                    final List<Set<String>> topicsByMember = members.stream().map(m -> m.assignment()
                            .topicPartitions().stream().map(TopicPartition::topic).collect(Collectors.toSet())).toList();
                    assertThat(topicsByMember).as("both sequence input partitions").hasSize(2)
                            .allMatch(t -> t.contains("events"));
                    assertThat(topicsByMember).as("one chunks the sequence")
                            .filteredOn(t -> t.contains(DictionarySequence.topic(base.applicationId()))).hasSize(1);
                }
                assertThat(a.counters().deadLettered() + b.counters().deadLettered()).isZero();
                assertThat(b.trainer().eventsTrained()).isEqualTo(a.trainer().eventsTrained()).isEqualTo(clicks);
                final Map<String, float[]> pa = a.learner().parameters();
                final Map<String, float[]> pb = b.learner().parameters();
                assertThat(pb.keySet()).isEqualTo(pa.keySet());
                for (final Map.Entry<String, float[]> e : pa.entrySet()) {
                    assertThat(pb.get(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
                }
                System.out.printf("DictionaryVocabularyIT (two instances, 4 partitions): chunked %d / %d; version %d%n",
                        a.counters().consumed(), b.counters().consumed(), a.learner().version());
            }
            final Map<Integer, String> dictionary = dictionary(bootstrap, VocabularyTopic.name(base.applicationId()));
            assertThat(Set.copyOf(dictionary.values())).as("each page once").hasSize(7).hasSize(dictionary.size());
        }
    }

    /** Same application id and model; its own instance id and state directory. */
    private AppConfig instance(final AppConfig base, final String name) {
        return base.toBuilder().stateDir(dir.resolve("state-" + name))
                .trainer(base.trainer().withInstanceId(name)).build();
    }

    /**
     * Split training of the same: the one chunking task names each chunk's input partition, so the chunk log keeps
     * one partition per input partition, and each instance trains its share with the one dictionary.
     */
    @Test
    void splitTrainingGetsEachInputPartitionsChunksInItsOwnChunkLogPartition() throws Exception {
        final int clicks = 1_200;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            // TestApps' configuration creates the input, and the split chunk log, with 2 partitions
            final AppConfig base = config(bootstrap, url);
            final AppConfig split = base.withTrainer(base.trainer().withScaleOut(ScaleOut.SPLIT, 1.0));
            try (SpillwayApp a = SpillwayApp.start(instance(split, "a"));
                 SpillwayApp b = SpillwayApp.start(instance(split, "b"))) {
                TestApps.await("both instances running and training a chunk-log partition each", Duration.ofSeconds(60),
                        () -> a.streamsState() == org.apache.kafka.streams.KafkaStreams.State.RUNNING
                                && b.streamsState() == org.apache.kafka.streams.KafkaStreams.State.RUNNING
                                && owned(a) == 1 && owned(b) == 1);
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                assertThat(python("click-produce", bootstrap, url, "events", Integer.toString(clicks),
                        Integer.toString(USERS), Integer.toString(clicks), "0", "0", "1", "2"))
                        .contains("{\"produced\": " + clicks + "}");
                TestApps.await("every click trained, once", Duration.ofSeconds(120),
                        () -> a.trainer().eventsTrained() + b.trainer().eventsTrained() >= clicks);
                assertThat(a.trainer().eventsTrained()).as("a's share").isPositive();
                assertThat(b.trainer().eventsTrained()).as("b's share").isPositive();
                assertThat(a.trainer().eventsTrained() + b.trainer().eventsTrained()).isEqualTo(clicks);
                assertThat(a.counters().consumed() + b.counters().consumed()).isEqualTo(clicks);
            }
            final Map<Integer, Set<String>> keysByChunkPartition = new HashMap<>();
            for (final ConsumerRecord<byte[], byte[]> r : rawRecords(bootstrap, Topics.defaults().chunks())) {
                if (!io.spillway.app.topology.ChunkRecords.isBarrier(r.value())) {
                    assertThat(io.spillway.app.topology.ChunkRecords.sourcePartition(r.value()))
                            .as("a chunk in its input partition's chunk-log partition").isEqualTo(r.partition());
                    keysByChunkPartition.computeIfAbsent(r.partition(), p -> new java.util.TreeSet<>())
                            .add(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            assertThat(keysByChunkPartition).as("user-u's clicks are on input partition u %% 2").isEqualTo(Map.of(
                    0, Set.of("user-0", "user-2", "user-4"), 1, Set.of("user-1", "user-3", "user-5")));
            final Map<Integer, String> dictionary = dictionary(bootstrap, VocabularyTopic.name(base.applicationId()));
            assertThat(Set.copyOf(dictionary.values())).as("each page once").hasSize(7).hasSize(dictionary.size());
            final List<ConsumerRecord<byte[], Prediction>> predictions = TestApps.readAll(bootstrap, url,
                    Topics.defaults().predictions(), Prediction.class);
            assertThat(predictions).hasSizeGreaterThan(clicks / 2).allSatisfy(r -> assertThat(
                    str(r.value().getPredictedCategory())).isEqualTo(dictionary.get(r.value().getPredictedEventType())));
        }
    }

    private static int owned(final SpillwayApp app) {
        return ((io.spillway.app.trainer.SplitTrainerLoop) app.trainer()).ownedPartitions().size();
    }

    /** Every committed record of {@code topic}, raw. */
    private static List<ConsumerRecord<byte[], byte[]>> rawRecords(final String bootstrap, final String topic) {
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(Map.of(
                "bootstrap.servers", bootstrap, "isolation.level", "read_committed"),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            final List<ConsumerRecord<byte[], byte[]>> out = new java.util.ArrayList<>();
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))
                    && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    private static long earliest(final Admin admin, final TopicPartition tp) {
        try {
            return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset();
        } catch (final Exception e) {
            throw new IllegalStateException(e);
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
