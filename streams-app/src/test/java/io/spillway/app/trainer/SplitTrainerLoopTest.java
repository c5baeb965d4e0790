package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.TensorDelta;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.TrainingMetrics;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The split-training loop with a real CPU learner and the replicated loop's fakes: an in-memory transactional sink,
 * a chunk group over a list, and a delta log that reads back the sink's committed deltas.
 */
class SplitTrainerLoopTest {
    private static final int VOCAB = 4;
    private static final Topics TOPICS = Topics.defaults();
    private static final String INCARNATION = "i0@1";

    private final RecordingSink sink = new RecordingSink();
    private Learner learner;
    private Map<String, float[]> initial;
    private ListDeltaLog deltaLog;

    @BeforeEach
    void setUp() {
        learner = Learners.create(LearnerConfig.builder().vocabularySize(VOCAB).featureDimension(0).hiddenSize(16)
                .backend("cpu").optimizer("adam").learningRate(0.05f).seed(11).build());
        initial = copy(learner.parameters());
        deltaLog = new ListDeltaLog(sink, TOPICS.deltas(), initial);
    }

    @AfterEach
    void tearDown() {
        learner.close();
    }

    private static Map<String, float[]> copy(final Map<String, float[]> weights) {
        final Map<String, float[]> out = new HashMap<>();
        weights.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /**
     * Two partitions as a consumer hands them over, interleaved: partition 0 holds keys a and b, partition 1 keys
     * c and d, {@code rounds} chunks of each.
     */
    private static List<ChunkSource.Entry> twoPartitions(final int rounds) {
        final List<ChunkSource.Entry> log = new ArrayList<>();
        final long[] next = new long[2];
        for (int r = 0; r < rounds; r++) {
            for (final String key : List.of("a", "c", "b", "d")) {
                final int p = key.equals("a") || key.equals("b") ? 0 : 1;
                final TimedChunk c = TrainerLoopTest.cyclic(key, r * 8, 8);
                log.add(new ChunkSource.Entry(p, next[p]++, c, c.timestampsMs()[7]));
            }
        }
        return log;
    }

    private static TrainerSettings settings(final int batchKeys, final int snapshotEvery) {
        return new TrainerSettings("m", "i0", batchKeys, snapshotEvery, 100_000, 4096)
                .withScaleOut(ScaleOut.SPLIT, 0.3);
    }

    /** Stops {@code loop} once it has trained all it read and the log stayed quiet for a few polls. */
    private static Runnable stopWhenDone(final SplitTrainerLoop[] loop) {
        final int[] quiet = new int[1];
        return () -> {
            if (loop[0].eventsPending() == 0 && ++quiet[0] > 2) {
                loop[0].stop();
            }
        };
    }

    private SplitTrainerLoop loop(final ChunkGroup group, final TrainerSettings settings) {
        return new SplitTrainerLoop(new TrainerContext(learner, sink, TOPICS, settings, f -> { }, () -> 5L, () -> 1L),
                group, deltaLog, INCARNATION, Duration.ZERO, TrainerLoop.Resume.FRESH);
    }

    /** A loop over {@code log}, all of it in the first poll, owning both partitions. */
    private SplitTrainerLoop loop(final List<ChunkSource.Entry> log, final TrainerSettings settings,
                                  final ListChunkGroup[] group) {
        final SplitTrainerLoop[] loop = new SplitTrainerLoop[1];
        group[0] = new ListChunkGroup(log, 2, List.of(0, 1), Integer.MAX_VALUE, stopWhenDone(loop));
        loop[0] = loop(group[0], settings);
        return loop[0];
    }

    @Test
    void eachStepIsOneTransactionWithTheOffsetsItTrainedAndTheModelHoldsExactlyWhatWasPublished() {
        final ListChunkGroup[] group = new ListChunkGroup[1];
        final SplitTrainerLoop loop = loop(twoPartitions(3), settings(4, 0), group);
        loop.run();

        assertThat(loop.failure()).isNull();
        assertThat(group[0].closed).as("the loop closes its share of the log").isTrue();
        assertThat(deltaLog.closed).isTrue();
        assertThat(sink.inTransaction()).isFalse();
        // steps of four distinct keys, one per round, each with the offsets past its chunks
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(32L, 32L, 32L);
        assertThat(loop.steps()).isEqualTo(3);
        assertThat(loop.eventsTrained()).isEqualTo(96);
        assertThat(sink.commits.subList(0, 3)).containsExactly(Map.of(0, 2L, 1, 2L), Map.of(0, 4L, 1, 4L),
                Map.of(0, 6L, 1, 6L));
        // then the residual, alone in its transaction, with no offsets that moved
        assertThat(sink.commits).hasSize(4);
        assertThat(sink.commits.getLast()).isEmpty();
        assertThat(loop.residualFlushes()).isEqualTo(1);
        assertThat(loop.position()).isEqualTo(12);
        assertThat(sink.of(TOPICS.predictions(), Prediction.class)).hasSize(96 - 4);

        // each step publishes at most the density's share of every tensor; the residual the rest
        final List<ModelDelta> deltas = sink.of(TOPICS.deltas(), ModelDelta.class);
        assertThat(deltas).allSatisfy(d -> assertThat(d.getInstanceId()).isEqualTo(INCARNATION));
        assertThat(deltas.stream().filter(d -> d.getVersion() != d.getBaseVersion()))
                .allSatisfy(d -> assertThat(d.getUpdate().getIndices().size())
                        .isLessThanOrEqualTo((int) Math.ceil(0.3 * d.getTensorSize())));
        // the local model is the initial weights plus every delta it published, so every replica can hold it
        final Map<String, float[]> replayed = copy(initial);
        for (final ModelDelta d : deltas) {
            add(replayed, PeerDeltas.toDelta(d));
        }
        assertClose(learner.parameters(), replayed);
    }

    @Test
    void peersDeltasAreAppliedOnceAndOwnDeltasAreNotAppliedAgain() {
        final String tensor = initial.keySet().iterator().next();
        final int size = initial.get(tensor).length;
        final TensorDelta peer = new TensorDelta(tensor, size, new int[] {0, size - 1}, new float[] {0.25f, -0.5f});
        deltaLog.publishFromPeer(peer);
        final ListChunkGroup[] group = new ListChunkGroup[1];
        final SplitTrainerLoop loop = loop(twoPartitions(2), settings(4, 0), group);
        loop.run();

        assertThat(loop.failure()).isNull();
        assertThat(loop.peerDeltasApplied()).isEqualTo(1);
        final Map<String, float[]> expected = copy(initial);
        add(expected, peer);
        for (final ModelDelta d : sink.of(TOPICS.deltas(), ModelDelta.class)) {
            add(expected, PeerDeltas.toDelta(d));
        }
        assertClose(learner.parameters(), expected);
    }

    @Test
    void theOwnerOfPartitionZeroSnapshotsTheDeltaLogsModelAndKeepsTwo() throws Exception {
        final ListChunkGroup[] group = new ListChunkGroup[1];
        final SplitTrainerLoop loop = loop(twoPartitions(4), new TrainerSettings("m", "i0", 4, 1, 100_000, 1 << 20).withScaleOut(ScaleOut.SPLIT, 0.3), group);
        loop.run();

        assertThat(loop.failure()).isNull();
        final List<ModelSnapshotChunk> chunks = sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class);
        assertThat(loop.snapshotsPublished()).isEqualTo(4);
        assertThat(chunks).allSatisfy(c -> assertThat(c.getFormat()).isEqualTo(SplitCheckpoint.FORMAT));
        // each snapshot is the initial weights plus the deltas before the positions it records (the step just
        // committed is not read back yet)
        final List<ModelDelta> deltas = sink.of(TOPICS.deltas(), ModelDelta.class);
        long previousVersion = -1;
        for (final long version : chunks.stream().map(ModelSnapshotChunk::getVersion).distinct().toList()) {
            final SplitCheckpoint checkpoint = SplitCheckpoint.decode(payload(chunks, version));
            final long upTo = checkpoint.positions().get(0);
            final Map<String, float[]> expected = copy(initial);
            deltas.subList(0, (int) upTo).forEach(d -> add(expected, PeerDeltas.toDelta(d)));
            assertClose(checkpoint.weights(), expected);
            assertThat(version).isGreaterThan(previousVersion);
            previousVersion = version;
        }
        // the oldest two are retired (tombstoned) once newer ones are committed
        assertThat(sink.sent.stream().filter(s -> s.topic().equals(TOPICS.snapshots()) && s.value() == null)).hasSize(2);
    }

    @Test
    void aRevokedPartitionsUntrainedEntriesAreDroppedAndNoLongerCommitted() {
        final SplitTrainerLoop[] loop = new SplitTrainerLoop[1];
        // two entries a poll; partition 1 moves away at the poll after the first commit
        final ListChunkGroup group = new ListChunkGroup(twoPartitions(2), 2, List.of(0, 1), 2, stopWhenDone(loop)) {
            @Override
            public List<ChunkSource.Entry> poll(final Duration timeout) {
                if (sink.commits.size() == 1 && assignment().contains(1)) {
                    reassignAtNextPoll(List.of(0));
                }
                return super.poll(timeout);
            }
        };
        loop[0] = loop(group, settings(2, 0));
        loop[0].run();

        assertThat(loop[0].failure()).isNull();
        assertThat(loop[0].ownedPartitions()).containsExactly(0);
        // steps: a0 c0 | b0 a1 | b1 (d0 and the rest of partition 1 were never read here: their new owner trains them)
        assertThat(sink.commits.getFirst()).isEqualTo(Map.of(0, 1L, 1, 1L));
        assertThat(sink.commits.subList(1, sink.commits.size())).allSatisfy(c -> assertThat(c).doesNotContainKey(1));
        assertThat(sink.commits).contains(Map.of(0, 4L));
        assertThat(sink.of(TOPICS.predictions(), Prediction.class).stream().map(Prediction::getEntityId).distinct())
                .containsExactlyInAnyOrder("a", "b", "c");
        assertThat(loop[0].eventsTrained()).isEqualTo(8L * 5);
    }

    @Test
    void aFailedCommitStopsTheLoopAndPublishesNothingOfItsStep() {
        sink.failCommitAfter = 1;
        final ListChunkGroup[] group = new ListChunkGroup[1];
        final SplitTrainerLoop loop = loop(twoPartitions(3), settings(4, 0), group);
        loop.run();

        assertThat(loop.failure()).hasMessageContaining("commit failed");
        assertThat(sink.aborts).isEqualTo(1);
        assertThat(sink.commits).containsExactly(Map.of(0, 2L, 1, 2L));
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).hasSize(1);
        assertThat(loop.steps()).as("the failed step is not counted").isEqualTo(1);
        assertThat(loop.position()).isEqualTo(4);
    }

    private static byte[] payload(final List<ModelSnapshotChunk> chunks, final long version) throws Exception {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final ModelSnapshotChunk c : chunks) {
            if (c.getVersion() == version) {
                final java.nio.ByteBuffer b = c.getPayload().duplicate();
                final byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.write(bytes);
            }
        }
        return out.toByteArray();
    }

    private static void add(final Map<String, float[]> model, final TensorDelta d) {
        final float[] w = model.get(d.tensor());
        for (int k = 0; k < d.indices().length; k++) {
            w[d.indices()[k]] += d.values()[k];
        }
    }

    private static void assertClose(final Map<String, float[]> actual, final Map<String, float[]> expected) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        double moved = 0;
        for (final String k : expected.keySet()) {
            final float[] a = actual.get(k);
            final float[] e = expected.get(k);
            assertThat(a).hasSameSizeAs(e);
            for (int i = 0; i < a.length; i++) {
                assertThat((double) a[i]).as("%s[%d]", k, i).isCloseTo(e[i], org.assertj.core.api.Assertions.within(1e-5));
            }
        }
        for (final String k : expected.keySet()) {
            for (int i = 0; i < expected.get(k).length; i++) {
                moved += Math.abs(expected.get(k)[i]);
            }
        }
        assertThat(moved).isPositive();
    }
}
