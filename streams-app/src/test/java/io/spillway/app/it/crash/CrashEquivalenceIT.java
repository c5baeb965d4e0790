package io.spillway.app.it.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.it.ChildJvm;
import io.spillway.app.it.TestApps;
import io.spillway.app.topology.ChunkRecords;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.TrainerCheckpoint;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash equivalence: the app runs as a separate JVM; run "a" trains the whole input uninterrupted, run "b" is
 * killed with SIGKILL at several random points (one during start-up, the others mid-training) and restarted
 * each time. Both then stop cleanly; their final snapshots (weights, optimizer state, carried per-key states,
 * version, chunk-log offset, events trained) must be bit-identical, and every input offset must be trained
 * exactly once: each key's trained offsets are a gap-free, duplicate-free prefix of its valid events (the rest,
 * less than two chunks, still waits in its open chunk or in the open batch), disjoint from the dead letters.
 */
class CrashEquivalenceIT {
    private static final int EVENTS = 3_000;
    private static final int KEYS = 8;
    private static final int BAD = 6;
    private static final int KILLS = 5;

    @TempDir
    Path dir;
    private long lastResume;
    private long killedAt;
    private long replayed;
    private int fromSnapshot;

    @Test
    void aRunKilledAtRandomPointsEndsBitIdenticalToAnUninterruptedOne() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            TestApps.createTopic(bootstrap, "events", 1);
            produce(bootstrap, url);

            final long started = System.nanoTime();
            final Child.Status a = runToTheEnd(bootstrap, url, "a");
            final double uninterruptedSeconds = (System.nanoTime() - started) / 1e9;

            final long seed = System.nanoTime();
            final Random random = new Random(seed);
            final List<String> kills = new ArrayList<>();
            for (int k = 0; k < KILLS; k++) {
                try (Child child = Child.start(bootstrap, url, dir, "b", k)) {
                    if (k == 0) {
                        Thread.sleep(500 + random.nextInt(2_500)); // during start-up or restore
                    } else {
                        // mid-training: a random number of log entries past the previous kill (and past where this
                        // process resumed), so the kills move through the run and most lose steps since a snapshot
                        child.await("the app to start", Duration.ofSeconds(60), s -> true);
                        final long target = Math.max(child.first().resumedAt(), killedAt) + 10 + random.nextInt(30);
                        child.await("position " + target, Duration.ofSeconds(90),
                                s -> s.position() >= target || s.drained());
                        Thread.sleep(random.nextInt(30));
                    }
                    child.kill();
                    final Child.Status at = child.last();
                    if (at != null) {
                        replayed += Math.max(0, killedAt - at.resumedAt());
                        fromSnapshot += at.resumedAt() > 0 ? 1 : 0;
                        killedAt = at.position();
                    }
                    kills.add(at == null ? "before its first status" : "resumed at " + at.resumedAt()
                            + ", last status before the kill at log position " + at.position() + " (" + at.eventsTrained()
                            + " events in the model)");
                }
            }
            final Child.Status b = runToTheEnd(bootstrap, url, "b");
            replayed += Math.max(0, killedAt - lastResume);
            System.out.printf("CrashEquivalenceIT: uninterrupted run %.1f s; crashed run (kill seed %d) killed %d times:"
                    + " %s; last start resumed at %d; at least %d log entries trained again after kills%n",
                    uninterruptedSeconds, seed, KILLS, kills, lastResume, replayed);
            assertThat(replayed).as("kills that lost steps since the last snapshot").isPositive();
            assertThat(fromSnapshot + (lastResume > 0 ? 1 : 0)).as("restarts that restored a snapshot").isPositive();

            final Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
            final SnapshotReader.Snapshot snapA = SnapshotReader.newest(client, url, Map.of(),
                    CrashableApp.topics("a").snapshots(), "crash-model").orElseThrow();
            final SnapshotReader.Snapshot snapB = SnapshotReader.newest(client, url, Map.of(),
                    CrashableApp.topics("b").snapshots(), "crash-model").orElseThrow();
            final TrainerCheckpoint ca = TrainerCheckpoint.decode(snapA.state());
            final TrainerCheckpoint cb = TrainerCheckpoint.decode(snapB.state());
            System.out.printf("CrashEquivalenceIT: final version %d, %d events trained, log offset %d, state %d B%n",
                    snapA.version(), ca.eventsTrained(), ca.chunkOffset(), ca.learnerState().length);
            // Offsets differ between the runs (the killed run's aborted transactions take offsets too); the
            // committed entries before them are compared below.
            assertThat(ca.chunkOffset()).isEqualTo(a.position());
            assertThat(cb.chunkOffset()).isEqualTo(b.position());
            assertThat(snapB.version()).isEqualTo(snapA.version()).isPositive();
            assertThat(cb.eventsTrained()).isEqualTo(ca.eventsTrained());
            assertThat(cb.learnerState()).as("learner state bytes").isEqualTo(ca.learnerState());

            // Exactly once, read from what is durable: the committed chunk logs and dead letters of both runs.
            final Map<String, List<Long>> validByKey = new TreeMap<>();
            final Set<Long> badOffsets = new HashSet<>();
            for (final ConsumerRecord<byte[], byte[]> r : readAll(bootstrap, "events")) {
                validByKey.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), x -> new ArrayList<>())
                        .add(r.offset());
            }
            for (final String run : List.of("a", "b")) {
                final Set<Long> dead = new HashSet<>();
                for (final ConsumerRecord<byte[], byte[]> r : readAll(bootstrap, CrashableApp.topics(run).deadLetters())) {
                    assertThat(dead.add(Long.parseLong(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET))))
                            .as("dead-lettered once").isTrue();
                }
                assertThat(dead).hasSize(BAD);
                badOffsets.addAll(dead);
            }
            assertThat(badOffsets).hasSize(BAD);
            validByKey.values().forEach(offsets -> offsets.removeAll(badOffsets));
            final List<String> logA = trainedPrefix(bootstrap, "a", ca, validByKey);
            final List<String> logB = trainedPrefix(bootstrap, "b", cb, validByKey);
            assertThat(logB).as("chunk logs of the two runs").isEqualTo(logA);

            // The killed run re-published the deltas of the steps it retrained; a follower replaying every delta
            // from the initial weights applies each once and ends at the trained weights (fp32 sums: to 1e-4).
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("no-snapshots", 1, (short) 1))).all().get();
            }
            final io.spillway.engine.LearnerConfig model = CrashableApp.config(bootstrap, url, dir, "a").learner();
            final Map<String, float[]> trained;
            try (io.spillway.engine.Learner l = io.spillway.engine.Learners.create(model)) {
                l.readState(new java.io.DataInputStream(new java.io.ByteArrayInputStream(ca.learnerState())));
                trained = l.parameters();
            }
            final long[] duplicates = new long[2];
            for (final String run : List.of("a", "b")) {
                final io.spillway.app.topology.Topics t = CrashableApp.topics(run);
                final io.spillway.app.topology.Topics fromDeltas = new io.spillway.app.topology.Topics(t.events(),
                        t.deadLetters(), t.deltas(), "no-snapshots", t.metrics(), t.predictions(), t.chunks());
                try (io.spillway.app.follower.ModelFollower follower = io.spillway.app.follower.ModelFollower.start(
                        client, url, Map.of(), fromDeltas, "crash-model", model)) {
                    final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (follower.version() < snapA.version() && System.nanoTime() < deadline) {
                        follower.poll(Duration.ofMillis(200));
                    }
                    follower.poll(Duration.ofMillis(500));
                    assertThat(follower.version()).isEqualTo(snapA.version());
                    duplicates[run.equals("a") ? 0 : 1] = follower.duplicatesSkipped();
                    final Map<String, float[]> replica = follower.parameters();
                    for (final Map.Entry<String, float[]> e : trained.entrySet()) {
                        final float[] r = replica.get(e.getKey());
                        for (int i = 0; i < r.length; i++) {
                            assertThat((double) r[i]).as("run %s follower, %s[%d]", run, e.getKey(), i)
                                    .isCloseTo(e.getValue()[i], org.assertj.core.data.Offset.offset(1e-4));
                        }
                    }
                }
            }
            System.out.printf("CrashEquivalenceIT: followers skipped %d duplicate delta records (uninterrupted run), %d"
                    + " (killed run)%n", duplicates[0], duplicates[1]);
            assertThat(duplicates[0]).isZero();
            assertThat(duplicates[1]).as("deltas the killed run published again").isPositive();
        }
    }

    /** Starts run {@code run}, waits until it has trained everything it can, stops it with SIGTERM. */
    private Child.Status runToTheEnd(final String bootstrap, final String url, final String run) throws Exception {
        try (Child child = Child.start(bootstrap, url, dir, run, 99)) {
            final Child.Status end = child.awaitDrained(Duration.ofSeconds(120));
            lastResume = child.first().resumedAt();
            child.stop();
            return end;
        }
    }

    /**
     * Checks the chunks of {@code run}'s committed log before the checkpoint's offset against the input: their
     * events are exactly the checkpoint's count, and per key a duplicate-free, gap-free prefix of the key's valid
     * input offsets, missing fewer than two chunks. Returns the log as "key:firstOffset-lastOffset" entries.
     */
    private static List<String> trainedPrefix(final String bootstrap, final String run, final TrainerCheckpoint checkpoint,
                                              final Map<String, List<Long>> validByKey) {
        final Map<String, List<Long>> trained = new HashMap<>();
        final List<String> log = new ArrayList<>();
        long events = 0;
        for (final ConsumerRecord<byte[], byte[]> r : readAll(bootstrap, CrashableApp.topics(run).chunks())) {
            if (r.offset() >= checkpoint.chunkOffset() || ChunkRecords.isBarrier(r.value())) {
                continue;
            }
            final TimedChunk c = ChunkRecords.decode(r.key(), r.value());
            for (final long o : c.sourceOffsets()) {
                trained.computeIfAbsent(c.key(), x -> new ArrayList<>()).add(o);
            }
            events += c.size();
            log.add(c.key() + ":" + c.sourceOffsets()[0] + "-" + c.sourceOffsets()[c.size() - 1]);
        }
        assertThat(events).as("events in run %s's trained chunks", run).isEqualTo(checkpoint.eventsTrained());
        assertThat(trained.keySet()).isEqualTo(validByKey.keySet());
        for (final Map.Entry<String, List<Long>> e : validByKey.entrySet()) {
            final List<Long> t = trained.get(e.getKey());
            assertThat(t).as("run %s, key %s: trained offsets are the first of its valid ones", run, e.getKey())
                    .isEqualTo(e.getValue().subList(0, t.size()));
            assertThat(e.getValue().size() - t.size()).as("untrained events of %s", e.getKey())
                    .isLessThan(2 * CrashableApp.CHUNK);
        }
        return log;
    }

    /** EVENTS generated events over KEYS keys, and BAD undecodable records among them, into the one partition. */
    private static void produce(final String bootstrap, final String url) throws Exception {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        final SequenceGenerator generator = new SequenceGenerator(KEYS, 8, 16, 0.1, 77);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
            for (int i = 0; i < EVENTS; i++) {
                final Event e = generator.next();
                p.send(new ProducerRecord<>("events", e.getEntityId(), s.serialize("events", e)));
                if (i % (EVENTS / BAD) == 17) {
                    p.send(new ProducerRecord<>("events", e.getEntityId(), new byte[] {0, 0, 0, 0x7f, 0x7f, 2}));
                }
            }
        }
    }

    /** Every committed record of the topic's partition 0. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(final String bootstrap, final String topic) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            final TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            final long end = consumer.endOffsets(List.of(tp)).get(tp);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** One app process of a run; its output goes to a file, its status lines are parsed. */
    static final class Child implements AutoCloseable {
        record Status(long position, long eventsTrained, boolean drained, long resumedAt) {
        }

        private ChildJvm jvm;
        private volatile Status last;
        private volatile Status first;
        private volatile long drainedSince = Long.MAX_VALUE;

        private void status(final String[] f) {
            final Status s = new Status(Long.parseLong(f[0]), Long.parseLong(f[1]), Boolean.parseBoolean(f[2]),
                    Long.parseLong(f[3]));
            final Status before = last;
            if (!(s.drained() && before != null && before.drained() && before.position() == s.position())) {
                drainedSince = s.drained() ? System.nanoTime() : Long.MAX_VALUE;
            }
            if (first == null) {
                first = s;
            }
            last = s;
        }

        /** @param more further arguments of {@link CrashableApp} (a mapping file and a vocabulary size) */
        static Child start(final String bootstrap, final String url, final Path dir, final String run, final int n,
                           final String... more) throws Exception {
            final Child child = new Child();
            final List<String> args = new ArrayList<>(List.of(bootstrap, url, dir.resolve("state-" + run).toString(),
                    run));
            args.addAll(List.of(more));
            child.jvm = ChildJvm.start(CrashableApp.class, args, dir.resolve("app-" + run + "-" + n + ".log"),
                    child::status);
            return child;
        }

        Status last() {
            return last;
        }

        /** The first status: where the process resumed. */
        Status first() {
            return first;
        }

        void await(final String what, final Duration timeout, final java.util.function.Predicate<Status> condition)
                throws InterruptedException {
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (last == null || !condition.test(last)) {
                if (!jvm.isAlive()) {
                    throw new AssertionError("the app process exited (" + jvm.exitValue() + ") before " + what);
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out waiting for " + what + "; last status " + last);
                }
                Thread.sleep(20);
            }
        }

        /** Waits until the status has said drained, at one position, for a second. */
        Status awaitDrained(final Duration timeout) throws InterruptedException {
            await("the run to drain", timeout, s -> System.nanoTime() - drainedSince > 1_000_000_000L);
            return last;
        }

        /** SIGKILL; then reads what the process printed before it died. */
        void kill() throws InterruptedException {
            jvm.kill();
        }

        /** SIGTERM: the app stops cleanly and publishes a snapshot. */
        void stop() throws InterruptedException {
            jvm.stop(Duration.ofSeconds(60));
        }

        @Override
        public void close() throws InterruptedException {
            jvm.close();
        }
    }
}
