package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.follower.ModelFollower;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SplitTrainerLoop;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Split training survives a SIGKILL: instance b runs as a separate process next to instance a, is killed in the
 * middle of training and restarted. The step it had under way was never committed, so its chunks are trained
 * again (by whoever owns their partition next) and its deltas, predictions and metrics of that step stay invisible
 * to read_committed readers. Checks: the committed metrics records account for every accepted event exactly once
 * (sum of their batch sizes = events produced - dead-lettered), and a, the restarted b (its own report) and a
 * follower hold the same weights within float rounding.
 */
class SplitCrashIT {
    private static final int FIRST = 4_000;
    private static final int SECOND = 4_000;

    @TempDir
    Path dir;

    @Test
    void aKilledInstanceLosesAndDuplicatesNothing() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            admin.createTopics(List.of(new NewTopic("events", 4, (short) 1))).all().get();
            final String appId = "split-crash";
            final AppConfig configA = SplitCrashableApp.config(bootstrap, url, dir.resolve("state-a"), appId, "a");
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 77);
            try (SpillwayApp a = SpillwayApp.start(configA)) {
                final SplitTrainerLoop trainerA = (SplitTrainerLoop) a.trainer();
                long killedAfter;
                try (Child b = Child.start(bootstrap, url, dir, appId, 1)) {
                    TestApps.await("both trainers own partitions", Duration.ofSeconds(90),
                            () -> trainerA.ownedPartitions().size() == 2);
                    TestApps.produce(bootstrap, url, generator, FIRST);
                    TestApps.await("b trained some events", Duration.ofSeconds(90), () -> b.eventsTrained() >= 400);
                    b.kill();
                    killedAfter = b.eventsTrained();
                }
                TestApps.produce(bootstrap, url, generator, SECOND);
                try (Child b = Child.start(bootstrap, url, dir, appId, 2)) {
                    TestApps.await("everything trained and settled", Duration.ofSeconds(180), () -> {
                        try {
                            return SplitScaleOutIT.caughtUp(admin, appId, "events")
                                    && SplitScaleOutIT.caughtUp(admin, appId + "-trainers", configA.topics().chunks())
                                    && trainerA.quiescent() && b.quiescent() && stableFor(trainerA, 2_000);
                        } catch (final Exception e) {
                            return false;
                        }
                    });
                    final long deadLettered = TestApps.readAll(bootstrap, url, configA.topics().deadLetters(), null).size();
                    final List<ConsumerRecord<byte[], TrainingMetrics>> metrics = TestApps.readAll(bootstrap, url,
                            configA.topics().metrics(), TrainingMetrics.class);
                    final long trained = metrics.stream().mapToLong(r -> r.value().getBatchEvents()).sum();
                    final long byKilled = metrics.stream().filter(r -> r.value().getInstanceId().equals("b"))
                            .mapToLong(r -> r.value().getBatchEvents()).sum();
                    final long abortedRecords = countUncommitted(bootstrap, configA.topics().metrics()) - metrics.size();
                    final long deltas = TestApps.readAll(bootstrap, url, configA.topics().deltas(), ModelDelta.class).size();
                    System.out.printf("SplitCrashIT: b killed after %d trained events; committed metrics account for %d"
                                    + " events (b's two lives %d, a %d); %d dead-lettered of %d; %d deltas committed;"
                                    + " restarted b trained %d; metrics records of aborted steps %d%n", killedAfter, trained,
                            byKilled, trainerA.eventsTrained(), deadLettered, FIRST + SECOND, deltas, b.eventsTrained(),
                            abortedRecords);
                    assertThat(trained).as("events in committed steps: each accepted event exactly once")
                            .isEqualTo(FIRST + SECOND - deadLettered);
                    assertThat(trainerA.eventsTrained()).isPositive();
                    assertThat(byKilled).isPositive();
                    try (ModelFollower follower = ModelFollower.start(Map.of("bootstrap.servers", bootstrap), url,
                            Map.of(), configA.topics(), configA.trainer().modelId(), configA.learner(), ScaleOut.SPLIT)) {
                        long seen = -1;
                        while (follower.deltasApplied() != seen) {
                            seen = follower.deltasApplied();
                            follower.poll(Duration.ofSeconds(2));
                        }
                        System.out.printf("SplitCrashIT: follower applied %d deltas; max |a - follower| = %.3g%n",
                                follower.deltasApplied(), SplitScaleOutIT.maxDifference(a.learner().parameters(),
                                        follower.parameters()));
                        SplitScaleOutIT.assertClose(a.learner().parameters(), follower.parameters(), "a vs follower");
                    }
                }
            }
        }
    }

    /** Records on {@code topic} including those of aborted transactions. */
    private static long countUncommitted(final String bootstrap, final String topic) {
        final java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_uncommitted");
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> c =
                     new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                             new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            final List<org.apache.kafka.common.TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            final Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(parts);
            long n = 0;
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                n += c.poll(Duration.ofMillis(300)).count();
            }
            return n;
        }
    }

    private long lastApplied = -1;
    private long appliedSince;

    /** a applied no peer delta for {@code ms}: every instance's residual is in. */
    private boolean stableFor(final SplitTrainerLoop trainer, final long ms) {
        final long applied = trainer.peerDeltasApplied();
        if (applied != lastApplied) {
            lastApplied = applied;
            appliedSince = System.nanoTime();
            return false;
        }
        return System.nanoTime() - appliedSince > ms * 1_000_000L;
    }

    /** Instance b as a separate JVM. */
    private static final class Child implements AutoCloseable {
        private ChildJvm jvm;
        private volatile long eventsTrained;
        private volatile boolean quiescent;

        static Child start(final String bootstrap, final String url, final Path dir, final String appId, final int n)
                throws Exception {
            final Child child = new Child();
            child.jvm = ChildJvm.start(SplitCrashableApp.class, List.of(bootstrap, url,
                    dir.resolve("state-b").toString(), appId, "b"), dir.resolve("app-b-" + n + ".log"), f -> {
                        child.eventsTrained = Long.parseLong(f[0]);
                        child.quiescent = Boolean.parseBoolean(f[1]);
                    });
            return child;
        }

        long eventsTrained() {
            return eventsTrained;
        }

        boolean quiescent() {
            return quiescent && jvm.isAlive();
        }

        void kill() throws InterruptedException {
            jvm.kill();
        }

        @Override
        public void close() throws InterruptedException {
            jvm.close();
        }
    }
}
