package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instances with one application id on four input partitions: they split the topology's work (validation and
 * chunking), and each runs a trainer replica over the one chunk log, so the replicas agree exactly (tolerance
 * zero: the same batches in the same order). A third instance joining mid-stream restores the newest snapshot,
 * reads the log from its offset (earlier entries are already truncated) and ends equal to the others.
 */
class ScaleOutIT {
    private static final int FIRST = 3_000;
    private static final int SECOND = 2_000;

    @TempDir
    Path dir;

    @Test
    void replicasSplitThePartitionsAndAgreeAndAThirdCatchesUp() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            admin.createTopics(List.of(new NewTopic("events", 4, (short) 1))).all().get();
            final AppConfig base = TestApps.config(bootstrap, url, dir.resolve("state"), 8);
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 51);
            try (SpillwayApp a = SpillwayApp.start(instance(base, "a"));
                 SpillwayApp b = SpillwayApp.start(instance(base, "b"))) {
                TestApps.await("both instances running", Duration.ofSeconds(60), () -> a.streamsState().isRunningOrRebalancing()
                        && b.streamsState().isRunningOrRebalancing());
                TestApps.produce(bootstrap, url, generator, FIRST);
                awaitDrained(admin, base, List.of(a, b));
                assertThat(a.counters().consumed()).as("records a's topology processed").isPositive();
                assertThat(b.counters().consumed()).as("records b's topology processed").isPositive();
                assertThat(a.counters().consumed() + b.counters().consumed()).isEqualTo(FIRST);
                System.out.printf("ScaleOutIT: topology split %d / %d records; replicas at version %d%n",
                        a.counters().consumed(), b.counters().consumed(), a.learner().version());
                assertSameModel(a, b);

                final TopicPartition chunkLog = new TopicPartition(base.topics().chunks(), 0);
                final long logStart = admin.listOffsets(Map.of(chunkLog, OffsetSpec.earliest())).all().get()
                        .get(chunkLog).offset();
                assertThat(logStart).as("chunk log truncated behind the replicas' snapshot").isPositive();
                try (SpillwayApp c = SpillwayApp.start(instance(base, "c"))) {
                    TestApps.produce(bootstrap, url, generator, SECOND);
                    awaitDrained(admin, base, List.of(a, b, c));
                    assertThat(c.trainer().eventsTrained()).as("c trained only what the snapshot it restored lacks")
                            .isLessThan(a.trainer().eventsTrained());
                    assertThat(c.trainer().eventsTrainedTotal()).isEqualTo(a.trainer().eventsTrainedTotal());
                    System.out.printf("ScaleOutIT: c joined, restored a snapshot and trained %d of %d events;"
                            + " all at version %d%n", c.trainer().eventsTrained(), a.trainer().eventsTrainedTotal(),
                            c.learner().version());
                    assertSameModel(a, b);
                    assertSameModel(a, c);
                }
            }
        }
    }

    /** Same application id and model; its own instance id, state directory and (free) ops port. */
    private AppConfig instance(final AppConfig base, final String name) {
        final TrainerSettings t = base.trainer();
        return base.toBuilder().stateDir(dir.resolve("state-" + name)).partitions(4).trainer(t.withInstanceId(name))
                .build();
    }

    /** Every input record committed by the group, every trainer through the committed log and idle for a while. */
    private static void awaitDrained(final Admin admin, final AppConfig config, final List<SpillwayApp> apps)
            throws InterruptedException {
        final long[] stableSince = {Long.MAX_VALUE};
        final String[] lastSeen = {""};
        TestApps.await("input consumed and every replica through the chunk log", Duration.ofSeconds(150), () -> {
            try {
                final List<TopicPartition> input = List.of(0, 1, 2, 3).stream()
                        .map(p -> new TopicPartition(config.topics().events(), p)).toList();
                final Map<TopicPartition, OffsetAndMetadata> committed = admin
                        .listConsumerGroupOffsets(config.applicationId()).partitionsToOffsetAndMetadata().get();
                final Map<TopicPartition, Long> end = admin.listOffsets(input.stream()
                        .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get().entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
                final TopicPartition chunks = new TopicPartition(config.topics().chunks(), 0);
                final long chunkEnd = admin.listOffsets(Map.of(chunks, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get().get(chunks).offset();
                final boolean done = input.stream().allMatch(p -> committed.get(p) != null
                        && committed.get(p).offset() == end.get(p))
                        && apps.stream().allMatch(app -> app.chunkReadPosition() >= chunkEnd);
                final String seen = apps.stream().map(app -> app.trainer().position() + "/" + app.trainer().eventsPending())
                        .collect(Collectors.joining(","));
                if (!done || !seen.equals(lastSeen[0])) {
                    lastSeen[0] = seen;
                    stableSince[0] = done ? System.nanoTime() : Long.MAX_VALUE;
                    return false;
                }
                return System.nanoTime() - stableSince[0] > 1_500_000_000L;
            } catch (final Exception e) {
                return false;
            }
        });
    }

    private static void assertSameModel(final SpillwayApp x, final SpillwayApp y) {
        assertThat(y.trainer().position()).isEqualTo(x.trainer().position());
        assertThat(y.learner().version()).isEqualTo(x.learner().version()).isPositive();
        final Map<String, float[]> px = x.learner().parameters();
        final Map<String, float[]> py = y.learner().parameters();
        assertThat(py.keySet()).isEqualTo(px.keySet());
        for (final Map.Entry<String, float[]> e : px.entrySet()) {
            assertThat(py.get(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
        }
    }
}
