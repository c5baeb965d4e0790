package io.spillway.app.it.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.it.ConfluentPeer;
import io.spillway.app.it.TestApps;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.TrainerCheckpoint;
import io.spillway.app.vocabulary.VocabularyReader;
import io.spillway.app.vocabulary.VocabularyTopic;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash equivalence with a dictionary vocabulary (issue 17 item 3): Confluent's Python {@code AvroProducer} writes
 * a clickstream of the test's own schema (Avro string keys) whose pages keep arriving new for the first quarter of
 * the run, more than the vocabulary holds (the rest overflow). Run "b" is killed with SIGKILL after each of the
 * first small batches of clicks, at a random moment while its stream task gives the new pages ids, and restarted
 * each time; run "a" then trains the whole input uninterrupted (one input partition, no max-wait flush: the chunk
 * log is a function of the input alone). Their final
 * snapshots must be bit-identical (the same ids trained the same weights) and their published dictionaries equal.
 */
class DictionaryCrashIT {
    private static final int CLICKS = 3_000;
    private static final int USERS = 8;
    /** 6 + 90 pages: user-0 sees a new one at each of its first 96 clicks. */
    private static final int EXTRA_PAGES = 90;
    /** 63 pages take ids; the rest are the overflow class 63. */
    private static final int VOCABULARY = 64;
    /** The first clicks come in batches of this many, a kill after each (the dictionary fills meanwhile). */
    private static final int SMALL_BATCH = 100;
    private static final int FIRST_BATCHES = 6;

    @TempDir
    Path dir;
    private Path mapping;

    @BeforeAll
    static void requirePeer() throws Exception {
        ConfluentPeer.assumeAvailable();
    }

    @Test
    void aRunKilledWhileItsDictionaryGrowsEndsBitIdenticalToAnUninterruptedOne() throws Exception {
        mapping = Files.writeString(dir.resolve("clicks.mapping"),
                "time = at\ntype = page\ntype.vocabulary = dictionary\nfeatures = dwellSeconds\n");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            TestApps.createTopic(bootstrap, "events", 1);
            // Run "b" first, killed while the clickstream arrives in small batches: its stream task is then reading
            // new pages, giving them ids, when it dies (the trainer, behind, is killed mid-training too).
            final long seed = System.nanoTime();
            final Random random = new Random(seed);
            final List<String> kills = new ArrayList<>();
            int produced = 0;
            for (int k = 0; produced < CLICKS; k++) {
                final int batch = produced < FIRST_BATCHES * SMALL_BATCH ? SMALL_BATCH : CLICKS - produced;
                try (CrashEquivalenceIT.Child child = start(bootstrap, url, "b", k)) {
                    if (k > 0) {
                        child.await("the app to start", Duration.ofSeconds(60), s -> true);
                    }
                    produce(bootstrap, url, produced, batch);
                    produced += batch;
                    if (produced < CLICKS) {
                        Thread.sleep(random.nextInt(400));
                        child.kill();
                        final CrashEquivalenceIT.Child.Status at = child.last();
                        kills.add(produced + " clicks produced, " + (at == null ? "before its first status"
                                : "at log position " + at.position()));
                    }
                }
            }
            final CrashEquivalenceIT.Child.Status b = runToTheEnd(bootstrap, url, "b");
            // Then run "a" over the whole input, uninterrupted.
            final CrashEquivalenceIT.Child.Status a = runToTheEnd(bootstrap, url, "a");
            System.out.printf("DictionaryCrashIT: killed (seed %d) %s; ends at %d (a) and %d (b)%n", seed, kills,
                    a.position(), b.position());

            final Map<Integer, String> dictA = assertEndedAlike(bootstrap, url, "a", "b");
            System.out.printf("DictionaryCrashIT: dictionary of %d pages%n", dictA.size());
        }
    }

    /**
     * The same on an input of two partitions, through the dictionary's one sequence partition. Which of two busy
     * partitions the sequence takes a record from first is up to the stream threads, so each run gets its input one
     * partition at a time (the clicks of that partition's users), the next batch only once the last is sequenced:
     * the sequence is then the same in every run, and so are the ids and the chunk log. Run "sb" is killed with
     * SIGKILL at a random moment after each of the first batches, while the sequencer and the chunking task work
     * on it, and restarted; run "sa" reads its own copy of the input uninterrupted.
     */
    @Test
    void aRunOfTwoInputPartitionsKilledWhileItsDictionaryGrowsEndsBitIdenticalToAnUninterruptedOne()
            throws Exception {
        mapping = Files.writeString(dir.resolve("clicks.mapping"),
                "time = at\ntype = page\ntype.vocabulary = dictionary\nfeatures = dwellSeconds\n");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("events-sb", 2, (short) 1),
                        new NewTopic("events-sa", 2, (short) 1))).all().get();
            }
            final long seed = System.nanoTime();
            final Random random = new Random(seed);
            final List<String> kills = new ArrayList<>();
            final CrashEquivalenceIT.Child.Status b = runInBatches(bootstrap, url, "sb", random, kills);
            final CrashEquivalenceIT.Child.Status a = runInBatches(bootstrap, url, "sa", null, kills);
            System.out.printf("DictionaryCrashIT (2 partitions): killed (seed %d) %s; ends at %d (a) and %d (b)%n",
                    seed, kills, a.position(), b.position());
            assertThat(kills).hasSize(FIRST_BATCHES);

            final Map<Integer, String> dictA = assertEndedAlike(bootstrap, url, "sa", "sb");
            assertThat(Set.copyOf(dictA.values())).as("each page once").hasSize(VOCABULARY - 1);
            System.out.printf("DictionaryCrashIT (2 partitions): dictionary of %d pages%n", dictA.size());
        }
    }

    /**
     * The uninterrupted run {@code a} and the killed run {@code b} end with the same snapshot (events, version,
     * learner state bytes) and the same published dictionary, which is returned.
     */
    private Map<Integer, String> assertEndedAlike(final String bootstrap, final String url, final String a,
                                                  final String b) throws Exception {
        final Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
        final SnapshotReader.Snapshot snapA = SnapshotReader.newest(client, url, Map.of(),
                CrashableApp.topics(a).snapshots(), "crash-model").orElseThrow();
        final SnapshotReader.Snapshot snapB = SnapshotReader.newest(client, url, Map.of(),
                CrashableApp.topics(b).snapshots(), "crash-model").orElseThrow();
        final TrainerCheckpoint ca = TrainerCheckpoint.decode(snapA.state());
        final TrainerCheckpoint cb = TrainerCheckpoint.decode(snapB.state());
        assertThat(ca.eventsTrained()).as("clicks trained (the rest wait in open chunks, under two per user)")
                .isGreaterThan(CLICKS - 2L * CrashableApp.CHUNK * USERS);
        assertThat(cb.eventsTrained()).isEqualTo(ca.eventsTrained());
        assertThat(snapB.version()).isEqualTo(snapA.version()).isPositive();
        assertThat(cb.learnerState()).as("learner state bytes").isEqualTo(ca.learnerState());
        final Map<Integer, String> dictA = dictionary(bootstrap, a);
        assertThat(dictA).as("ids 0..62 taken, the overflow class 63 never stored").hasSize(VOCABULARY - 1);
        assertThat(dictionary(bootstrap, b)).as("the killed run's published dictionary").isEqualTo(dictA);
        System.out.printf("DictionaryCrashIT: %s and %s: %d events trained, state %d B%n", a, b, ca.eventsTrained(),
                ca.learnerState().length);
        return dictA;
    }

    /**
     * Runs {@code run} over its input {@code events-<run>}, produced in batches of one partition each, each
     * sequenced before the next; killed (and restarted) after each of the first {@link #FIRST_BATCHES} when
     * {@code random} is given.
     */
    private CrashEquivalenceIT.Child.Status runInBatches(final String bootstrap, final String url, final String run,
                                                         final Random random, final List<String> kills)
            throws Exception {
        final String events = "events-" + run;
        CrashEquivalenceIT.Child child = startOn(bootstrap, url, run, 0, events);
        try {
            int batch = 0;
            for (int from = 0; from < CLICKS; ) {
                final int count = from < FIRST_BATCHES / 2 * SMALL_BATCH ? SMALL_BATCH : CLICKS - from;
                for (int partition = 0; partition < 2; partition++, batch++) {
                    produce(bootstrap, url, events, from, count, partition);
                    if (random != null && batch < FIRST_BATCHES) {
                        Thread.sleep(random.nextInt(400));
                        child.kill();
                        final CrashEquivalenceIT.Child.Status at = child.last();
                        kills.add("after batch " + batch + " " + (at == null ? "before its first status"
                                : "at log position " + at.position()));
                        child.close();
                        child = startOn(bootstrap, url, run, batch + 1, events);
                    }
                    awaitSequenced(bootstrap, "crash-" + run, events);
                }
                from += count;
            }
            final CrashEquivalenceIT.Child.Status end = child.awaitDrained(Duration.ofSeconds(120));
            child.stop();
            return end;
        } finally {
            child.close();
        }
    }

    /** Waits until the application has committed its whole input, so that all of it is in its sequence. */
    private static void awaitSequenced(final String bootstrap, final String application, final String events)
            throws Exception {
        final List<TopicPartition> inputs = List.of(new TopicPartition(events, 0), new TopicPartition(events, 1));
        final long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (true) {
                final Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(application)
                        .partitionsToOffsetAndMetadata().get();
                final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(Map.of(
                        inputs.get(0), OffsetSpec.latest(), inputs.get(1), OffsetSpec.latest())).all().get();
                if (inputs.stream().allMatch(tp -> ends.get(tp).offset() == 0 || committed.get(tp) != null
                        && committed.get(tp).offset() == ends.get(tp).offset())) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(application + " has not sequenced " + events + ": committed "
                            + committed + ", ends " + ends);
                }
                Thread.sleep(50);
            }
        }
    }

    private CrashEquivalenceIT.Child startOn(final String bootstrap, final String url, final String run, final int n,
                                             final String events) throws Exception {
        final CrashEquivalenceIT.Child child = CrashEquivalenceIT.Child.start(bootstrap, url, dir, run, n,
                mapping.toString(), Integer.toString(VOCABULARY), events);
        child.await("the app to start", Duration.ofSeconds(60), s -> true);
        return child;
    }

    private CrashEquivalenceIT.Child start(final String bootstrap, final String url, final String run, final int n)
            throws Exception {
        return CrashEquivalenceIT.Child.start(bootstrap, url, dir, run, n, mapping.toString(),
                Integer.toString(VOCABULARY));
    }

    private CrashEquivalenceIT.Child.Status runToTheEnd(final String bootstrap, final String url, final String run)
            throws Exception {
        try (CrashEquivalenceIT.Child child = start(bootstrap, url, run, 99)) {
            final CrashEquivalenceIT.Child.Status end = child.awaitDrained(Duration.ofSeconds(120));
            child.stop();
            return end;
        }
    }

    private static Map<Integer, String> dictionary(final String bootstrap, final String run) {
        try (VocabularyReader reader = new VocabularyReader(Map.of("bootstrap.servers", bootstrap),
                VocabularyTopic.name("crash-" + run), VOCABULARY)) {
            return reader.all();
        }
    }

    /** Of clicks {@code from .. from+count-1}, those of the users on {@code partition} (user-u's: u % 2). */
    private void produce(final String bootstrap, final String url, final String topic, final int from,
                         final int count, final int partition) throws Exception {
        assertThat(ConfluentPeer.run(dir, "click-produce", bootstrap, url, topic, Integer.toString(count),
                Integer.toString(USERS), Integer.toString(count), "0", Integer.toString(from),
                Integer.toString(EXTRA_PAGES), "2", Integer.toString(partition)))
                .contains("{\"produced\": " + count / 2 + "}");
    }

    /** Clicks {@code from .. from+count-1} of the stream. */
    private void produce(final String bootstrap, final String url, final int from, final int count) throws Exception {
        assertThat(ConfluentPeer.run(dir, "click-produce", bootstrap, url, "events", Integer.toString(count),
                Integer.toString(USERS), Integer.toString(count), "0", Integer.toString(from),
                Integer.toString(EXTRA_PAGES))).contains("{\"produced\": " + count + "}");
    }
}
