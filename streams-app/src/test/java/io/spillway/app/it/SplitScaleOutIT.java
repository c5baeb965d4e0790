package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.follower.ModelFollower;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SplitTrainerLoop;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Split training: instances with one application id on four partitions each train their own share of the chunk
 * log (every event exactly once over all of them, across a rebalance), publish their updates compressed with error
 * feedback (density 0.1) and apply each other's. After the stream drains and the residuals are flushed, every
 * replica, a follower and a third instance that joined mid-stream (it rebuilt the model from the initial weights
 * and the delta log) hold the same weights within float rounding. The owner of chunk partition 0 publishes
 * snapshots; with the delta log before the newest one deleted, a fourth instance restores it and ends equal.
 */
class SplitScaleOutIT {
    private static final int FIRST = 3_000;
    private static final int SECOND = 2_000;
    /**
     * Replicas hold the initial weights plus the same deltas, added in different orders (and an instance's own
     * deltas as update plus correction): they differ by rounding only. Measured: see the printed figures.
     */
    static final float TOLERANCE = 1e-5f;

    @TempDir
    Path dir;

    @Test
    void instancesSplitTheTrainingAndConvergeAndAThirdCatchesUp() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            admin.createTopics(List.of(new NewTopic("events", 4, (short) 1))).all().get();
            final AppConfig base = TestApps.config(bootstrap, url, dir.resolve("state"), 8);
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 51);
            Map<String, float[]> trained = null;
            try (SpillwayApp a = SpillwayApp.start(instance(base, "a"));
                 SpillwayApp b = SpillwayApp.start(instance(base, "b"))) {
                TestApps.await("both instances running and training their partitions", Duration.ofSeconds(60),
                        () -> a.streamsState().isRunningOrRebalancing() && b.streamsState().isRunningOrRebalancing()
                                && split(a).ownedPartitions().size() == 2 && split(b).ownedPartitions().size() == 2);
                TestApps.produce(bootstrap, url, generator, FIRST);
                awaitSettled(admin, base, List.of(a, b));
                final long accepted = a.counters().accepted() + b.counters().accepted();
                assertThat(a.counters().consumed() + b.counters().consumed()).isEqualTo(FIRST);
                assertThat(a.trainer().eventsTrained()).as("events a trained").isPositive();
                assertThat(b.trainer().eventsTrained()).as("events b trained").isPositive();
                assertThat(a.trainer().eventsTrained() + b.trainer().eventsTrained())
                        .as("every accepted event trained once, by one instance").isEqualTo(accepted);
                assertThat(split(a).peerDeltasApplied()).isPositive();
                assertThat(split(b).peerDeltasApplied()).isPositive();
                assertThat(split(a).residualFlushes() + split(b).residualFlushes()).isPositive();
                assertThat(a.ops().scrape()).contains("spillway_scaleout_peer_deltas_applied_total "
                        + (double) split(a).peerDeltasApplied()).contains("spillway_scaleout_owned_partitions 2.0");
                System.out.printf("SplitScaleOutIT: a trained %d, b %d events (%d / %d steps); a applied %d peer deltas,"
                                + " b %d; max |a - b| = %.3g%n", a.trainer().eventsTrained(), b.trainer().eventsTrained(),
                        a.trainer().steps(), b.trainer().steps(), split(a).peerDeltasApplied(),
                        split(b).peerDeltasApplied(), maxDifference(a.learner().parameters(), b.learner().parameters()));
                assertClose(a.learner().parameters(), b.learner().parameters(), "a vs b");
                assertMoved(a.learner().parameters(), base);

                try (ModelFollower follower = ModelFollower.start(Map.of("bootstrap.servers", bootstrap), url, Map.of(),
                        base.topics(), base.trainer().modelId(), base.learner(), ScaleOut.SPLIT)) {
                    long seen = -1;
                    while (follower.deltasApplied() != seen) {
                        seen = follower.deltasApplied();
                        follower.poll(Duration.ofSeconds(2));
                    }
                    System.out.printf("SplitScaleOutIT: follower applied %d deltas; max |a - follower| = %.3g%n",
                            follower.deltasApplied(), maxDifference(a.learner().parameters(), follower.parameters()));
                    assertClose(a.learner().parameters(), follower.parameters(), "a vs follower");
                }

                final long trainedBefore = a.trainer().eventsTrained() + b.trainer().eventsTrained();
                try (SpillwayApp c = SpillwayApp.start(instance(base, "c"))) {
                    TestApps.await("c caught up with the delta log and owns chunk-log partitions", Duration.ofSeconds(60),
                            () -> split(c).peerDeltasApplied() > 0 && !split(c).ownedPartitions().isEmpty()
                                    && c.streamsState() == org.apache.kafka.streams.KafkaStreams.State.RUNNING);
                    TestApps.produce(bootstrap, url, generator, SECOND);
                    awaitSettled(admin, base, List.of(a, b, c));
                    final long acceptedAll = a.counters().accepted() + b.counters().accepted() + c.counters().accepted();
                    final long trainedEvents = a.trainer().eventsTrained() + b.trainer().eventsTrained()
                            + c.trainer().eventsTrained();
                    assertThat(trainedEvents).as("every accepted event trained once, across the rebalance")
                            .isEqualTo(acceptedAll);
                    assertThat(trainedEvents - trainedBefore).isPositive();
                    assertThat(c.trainer().eventsTrained()).as("events c trained on its partitions").isPositive();
                    System.out.printf("SplitScaleOutIT: c joined, applied %d deltas from the log and peers, trained %d"
                                    + " of %d new events; max |a - c| = %.3g, |b - c| = %.3g%n",
                            split(c).peerDeltasApplied(), c.trainer().eventsTrained(), trainedEvents - trainedBefore,
                            maxDifference(a.learner().parameters(), c.learner().parameters()),
                            maxDifference(b.learner().parameters(), c.learner().parameters()));
                    assertClose(a.learner().parameters(), b.learner().parameters(), "a vs b");
                    assertClose(a.learner().parameters(), c.learner().parameters(), "a vs c");
                    assertThat(split(a).snapshotsPublished() + split(b).snapshotsPublished()
                            + split(c).snapshotsPublished()).as("snapshots by the owners of chunk partition 0").isPositive();
                    trained = a.learner().parameters();
                }
            }
            // The delta log before the newest snapshot may go: a new instance restores the snapshot, reads the rest.
            final io.spillway.app.trainer.SnapshotReader.Snapshot newest = io.spillway.app.trainer.SnapshotReader
                    .newest(Map.of("bootstrap.servers", bootstrap), url, Map.of(), base.topics().snapshots(),
                            base.trainer().modelId()).orElseThrow();
            final io.spillway.app.scaleout.SplitCheckpoint checkpoint =
                    io.spillway.app.scaleout.SplitCheckpoint.decode(newest.state());
            final Map<TopicPartition, org.apache.kafka.clients.admin.RecordsToDelete> upTo = new java.util.HashMap<>();
            checkpoint.positions().forEach((p, offset) -> upTo.put(new TopicPartition(base.topics().deltas(), p),
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(offset)));
            admin.deleteRecords(upTo).all().get();
            try (SpillwayApp d = SpillwayApp.start(instance(base, "d"))) {
                TestApps.await("d restored the snapshot and read the log after it", Duration.ofSeconds(60),
                        () -> split(d).quiescent());
                System.out.printf("SplitScaleOutIT: d restored the snapshot at delta-log positions %s (log before it"
                                + " deleted), applied %d deltas after it; max |final - d| = %.3g%n", checkpoint.positions(),
                        split(d).peerDeltasApplied(), maxDifference(trained, d.learner().parameters()));
                assertThat(d.resumedFrom().snapshotVersion()).isEqualTo(checkpoint.logVersion());
                assertClose(trained, d.learner().parameters(), "final vs d (restored)");
            }
            // A delta log truncated past the newest snapshot cannot rebuild the model: an instance refuses, saying why.
            final Map.Entry<Integer, Long> longest = checkpoint.positions().entrySet().stream()
                    .max(Map.Entry.comparingByValue()).orElseThrow();
            final TopicPartition deltas = new TopicPartition(base.topics().deltas(), longest.getKey());
            admin.deleteRecords(Map.of(deltas, org.apache.kafka.clients.admin.RecordsToDelete
                    .beforeOffset(longest.getValue() + 1))).all().get();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SpillwayApp.start(instance(base, "e")))
                    .hasMessageContaining("starts at offset " + (longest.getValue() + 1) + ", not " + longest.getValue());
        }
    }

    private static SplitTrainerLoop split(final SpillwayApp app) {
        return (SplitTrainerLoop) app.trainer();
    }

    /** Split training with density 0.1; same application id and model; own instance id, state dir and port. */
    private AppConfig instance(final AppConfig base, final String name) {
        final TrainerSettings t = base.trainer();
        return base.toBuilder().stateDir(dir.resolve("state-" + name)).partitions(4)
                .trainer(t.withInstanceId(name).withSnapshotEvery(5).withScaleOut(ScaleOut.SPLIT, 0.1)).build();
    }

    /**
     * Every input record committed by the topology, every chunk committed by the trainers' group, every instance
     * settled (residual published, delta log read to its end), and nothing moving for a while.
     */
    private static void awaitSettled(final Admin admin, final AppConfig config, final List<SpillwayApp> apps)
            throws InterruptedException {
        final long[] stableSince = {Long.MAX_VALUE};
        final String[] lastSeen = {""};
        final long[] lastReport = {0};
        TestApps.await("input consumed, chunk log trained and every instance settled", Duration.ofSeconds(150), () -> {
            try {
                final boolean input = caughtUp(admin, config.applicationId(), config.topics().events());
                final boolean chunks = caughtUp(admin, config.applicationId() + "-trainers", config.topics().chunks());
                final boolean settled = apps.stream().allMatch(app -> split(app).quiescent());
                final boolean done = input && chunks && settled;
                if (System.nanoTime() / 5_000_000_000L != lastReport[0]) {
                    lastReport[0] = System.nanoTime() / 5_000_000_000L;
                    System.out.printf("SplitScaleOutIT: input committed %b, chunk log committed %b, instances settled"
                            + " %b%n", input, chunks, settled);
                }
                final String seen = apps.stream().map(app -> app.trainer().eventsTrained() + "/"
                        + split(app).peerDeltasApplied()).collect(Collectors.joining(","));
                if (!done || !seen.equals(lastSeen[0]) || stableSince[0] == Long.MAX_VALUE) {
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

    /** Whether {@code group} has committed the end of every partition of {@code topic}. */
    static boolean caughtUp(final Admin admin, final String group, final String topic) throws Exception {
        final List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                .partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        final Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        final Map<TopicPartition, Long> end = admin.listOffsets(partitions.stream()
                .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        return partitions.stream().allMatch(p -> end.get(p) == 0
                || (committed.get(p) != null && committed.get(p).offset() == end.get(p)));
    }

    static float maxDifference(final Map<String, float[]> x, final Map<String, float[]> y) {
        float max = 0;
        for (final Map.Entry<String, float[]> e : x.entrySet()) {
            final float[] other = y.get(e.getKey());
            for (int i = 0; i < other.length; i++) {
                max = Math.max(max, Math.abs(e.getValue()[i] - other[i]));
            }
        }
        return max;
    }

    static void assertClose(final Map<String, float[]> x, final Map<String, float[]> y, final String what) {
        assertThat(y.keySet()).isEqualTo(x.keySet());
        for (final Map.Entry<String, float[]> e : x.entrySet()) {
            final float[] expected = e.getValue();
            final float[] actual = y.get(e.getKey());
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).as(what + ": " + e.getKey() + "[" + i + "]")
                        .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(TOLERANCE));
            }
        }
    }

    /** The replicas trained: their weights left the initial ones by much more than the tolerance. */
    private static void assertMoved(final Map<String, float[]> trained, final AppConfig config) {
        try (io.spillway.engine.Learner fresh = io.spillway.engine.Learners.create(config.learner())) {
            assertThat(maxDifference(trained, fresh.parameters())).isGreaterThan(100 * TOLERANCE);
        }
    }
}
