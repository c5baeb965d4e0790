package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.TrainingMetrics;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The trainer loop with a real CPU learner and an in-memory sink. */
class TrainerLoopTest {
    private static final int VOCAB = 4;
    private static final Topics TOPICS = Topics.defaults();

    private final RecordingSink sink = new RecordingSink();
    private ListChunkSource source;
    private Learner learner;

    @BeforeEach
    void setUp() {
        learner = Learners.create(config());
    }

    @AfterEach
    void tearDown() {
        learner.close();
    }

    private static LearnerConfig config() {
        return LearnerConfig.builder().vocabularySize(VOCAB).featureDimension(0).hiddenSize(24).backend("cpu")
                .optimizer("adam").learningRate(0.05f).seed(7).build();
    }

    /** A chunk of the cyclic sequence 0,1,2,3,0,... of {@code key}, starting at position {@code from}. */
    static TimedChunk cyclic(final String key, final int from, final int length) {
        final List<SparseEvent> events = new ArrayList<>();
        final long[] ts = new long[length];
        for (int i = 0; i < length; i++) {
            events.add(SparseEvent.ofType((from + i) % VOCAB));
            ts[i] = 1_000L + from + i;
        }
        return new TimedChunk(new SequenceChunk(key, events), ts, from == 0 ? -1 : 1_000L + from - 1);
    }

    /** A loop over {@code log} (then a barrier) that stops once it has read all of it. */
    private TrainerLoop loop(final List<TimedChunk> log, final TrainerSettings settings) {
        return loop(learner, entries(log), TrainerLoop.Resume.FRESH, settings);
    }

    private TrainerLoop loop(final Learner l, final List<ChunkSource.Entry> log, final TrainerLoop.Resume resume,
                             final TrainerSettings settings) {
        final TrainerLoop[] loop = new TrainerLoop[1];
        source = new ListChunkSource(log, resume.chunkOffset(), () -> loop[0].stop());
        loop[0] = new TrainerLoop(new TrainerContext(l, sink, TOPICS, settings, f -> { }, () -> 42L, () -> 3L), source,
                resume, () -> {
                    throw new AssertionError("no truncation in these logs");
                });
        return loop[0];
    }

    /** A context that publishes to {@link #sink} and reports no lag and no dead letters. */
    private TrainerContext context(final Learner l, final TrainerSettings settings) {
        return new TrainerContext(l, sink, TOPICS, settings, f -> { }, () -> 0L, () -> 0L);
    }

    /** The chunks at offsets 0, 1, ..., then a barrier that closes the last batch. */
    private static List<ChunkSource.Entry> entries(final List<TimedChunk> chunks) {
        final List<ChunkSource.Entry> log = new ArrayList<>();
        for (final TimedChunk c : chunks) {
            log.add(new ChunkSource.Entry(log.size(), c));
        }
        log.add(ChunkSource.Entry.barrier(log.size()));
        return log;
    }

    @Test
    void trainsEveryQueuedEventPublishesOneMetricsRecordPerStepAndTheLossFalls() throws Exception {
        final List<TimedChunk> queue = new ArrayList<>();
        final int chunks = 60;
        final int length = 16;
        for (int c = 0; c < chunks; c++) {
            for (final String key : List.of("a", "b")) {
                queue.add(cyclic(key, c * length, length));
            }
        }
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 2, 0, 100_000, 4096));
        loop.run();

        assertThat(loop.failure()).isNull();
        assertThat(loop.eventsTrained()).isEqualTo(2L * chunks * length);
        assertThat(loop.eventsPending()).isZero();
        final List<TrainingMetrics> metrics = sink.of(TOPICS.metrics(), TrainingMetrics.class);
        assertThat(metrics).hasSize((int) loop.steps());
        final TrainingMetrics last = metrics.getLast();
        assertThat(last.getEventsTrained()).isEqualTo(2L * chunks * length);
        assertThat(last.getEventsDeadLettered()).isEqualTo(3L);
        assertThat(last.getConsumerLag()).isEqualTo(42L);
        assertThat(last.getBackend()).isEqualTo("cpu");
        assertThat(last.getModelVersion()).isEqualTo(learner.version());
        assertThat(last.getPeakDeviceBytes()).isPositive();
        assertThat(metrics).allSatisfy(m -> assertThat(m.getBatchEvents()).isEqualTo(2L * length));
        final double early = metrics.subList(0, 5).stream().mapToDouble(TrainingMetrics::getLoss).average().orElseThrow();
        final double late = metrics.subList(metrics.size() - 5, metrics.size()).stream()
                .mapToDouble(TrainingMetrics::getLoss).average().orElseThrow();
        assertThat(late).as("loss on a deterministic cycle falls (early %s)", early).isLessThan(early * 0.5);
        assertThat(metrics.getLast().getAccuracy()).isGreaterThan(0.9);

        final List<Prediction> predictions = sink.of(TOPICS.predictions(), Prediction.class);
        assertThat(predictions).hasSize((int) metrics.stream().mapToLong(m -> m.getBatchEvents()).sum() - 2);
        assertThat(predictions).allSatisfy(p -> assertThat(p.getActualEventType()).isBetween(0, VOCAB - 1));
        // the published predictions are the mixture's (the default): scored beside the network's own loss
        assertThat(metrics).allSatisfy(m -> assertThat(m.getPredictionLoss()).isNotNull().isFinite()
                .isNotEqualTo(m.getLoss()));
        final double published = metrics.subList(metrics.size() - 5, metrics.size()).stream()
                .mapToDouble(TrainingMetrics::getPredictionLoss).average().orElseThrow();
        assertThat(published).as("the mixture's late loss against the network's %s", late).isLessThan(late);
        assertThat(last.getMixturePairs()).isPositive();
        final long right = predictions.stream().filter(p -> p.getPredictedEventType() == p.getActualEventType()).count();
        final double meanAccuracy = metrics.stream().mapToDouble(m -> m.getPredictionAccuracy() * (m.getBatchEvents()
                - (m == metrics.getFirst() ? 2 : 0))).sum() / predictions.size();
        assertThat((double) right / predictions.size()).as("the published predictions' accuracy, as the metrics say")
                .isCloseTo(meanAccuracy, org.assertj.core.api.Assertions.within(1e-9));
    }

    @Test
    void withoutLookaheadARepeatedKeyClosesTheBatchSoEachStepHasDistinctKeysInLogOrder() throws Exception {
        final TrainerLoop loop = loop(List.of(cyclic("a", 0, 8), cyclic("a", 8, 8), cyclic("a", 16, 8), cyclic("b", 0, 5)),
                new TrainerSettings("m", "i0", 4, 0, 100_000, 4096).withBatchLookahead(0, 2_000));
        loop.run();

        assertThat(loop.steps()).isEqualTo(3);
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(8L, 8L, 13L);
        // predictions of key a follow the stream: after its first event, every event is a target exactly once
        final List<Integer> actualOfA = sink.of(TOPICS.predictions(), Prediction.class).stream()
                .filter(p -> p.getEntityId().equals("a")).map(Prediction::getActualEventType).toList();
        final List<Integer> expected = new ArrayList<>();
        for (int i = 1; i < 24; i++) {
            expected.add(i % VOCAB);
        }
        assertThat(actualOfA).isEqualTo(expected);
        // each prediction saw the event before its target, across chunk edges too (event i has time 1000 + i)
        assertThat(sink.of(TOPICS.predictions(), Prediction.class).stream().filter(p -> p.getEntityId().equals("a"))
                .map(Prediction::getAfterTimestampMs).toList())
                .isEqualTo(IntStream.range(0, 23).mapToObj(i -> 1_000L + i).toList());
    }

    /**
     * Lookahead: a step passes over chunks of keys it has (and later chunks of those keys) to take other keys'
     * chunks, at most {@code batchLookahead} of them; each key's chunks are still trained in log order, one per
     * step; the snapshot records the offset of the first chunk passed over and the ones after it already trained.
     */
    @Test
    void lookaheadFillsStepsWithOtherKeysAndKeepsEachKeysChunksInOrder() throws Exception {
        // offsets: 0 a0, 1 a1, 2 b0, 3 a2, 4 c0, 5 b1, 6 d0, 7 barrier
        final List<TimedChunk> log = List.of(cyclic("a", 0, 4), cyclic("a", 4, 4), cyclic("b", 0, 5), cyclic("a", 8, 4),
                cyclic("c", 0, 6), cyclic("b", 5, 5), cyclic("d", 0, 7));
        final TrainerLoop loop = loop(log, new TrainerSettings("m", "i0", 3, 1, 100_000, 1 << 20).withBatchLookahead(2, 2_000));
        loop.run();

        assertThat(loop.failure()).isNull();
        // step 1: a0, (a1 passed), b0, (a2 passed), c0; step 2: a1, (a2 passed), b1, d0; step 3: a2, closed by the barrier
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(4L + 5 + 6, 4L + 5 + 7, 4L);
        assertThat(loop.eventsTrained()).isEqualTo(4 * 3 + 5 * 2 + 6 + 7);
        final List<Integer> actualOfA = sink.of(TOPICS.predictions(), Prediction.class).stream()
                .filter(p -> p.getEntityId().equals("a")).map(Prediction::getActualEventType).toList();
        assertThat(actualOfA).isEqualTo(IntStream.range(1, 12).mapToObj(i -> i % VOCAB).toList());
        final List<TrainerCheckpoint> checkpoints = checkpoints();
        assertThat(checkpoints).extracting(TrainerCheckpoint::chunkOffset).containsExactly(1L, 3L, 8L);
        assertThat(checkpoints).extracting(c -> java.util.Arrays.stream(c.trainedAhead()).boxed().toList())
                .containsExactly(List.of(2L, 4L), List.of(4L, 5L, 6L), List.of());

        // the same log without lookahead: a repeated key closes the step
        sink.sent.clear();
        try (Learner plain = Learners.create(config())) {
            loop(plain, entries(log), TrainerLoop.Resume.FRESH,
                    new TrainerSettings("m", "i0", 3, 0, 100_000, 1 << 20).withBatchLookahead(0, 2_000)).run();
        }
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(4L, 4L + 5, 4L + 6 + 5, 7L);
    }

    @Test
    void lookaheadTakesNoChunkCompletedLaterThanTheWindowAfterTheStepsFirst() throws Exception {
        // entries stamped 1003 (a), 1023 (b) and 1103 (c) (the list log stamps its chunks' last event times): with a 50 ms window c waits for the next step
        final List<TimedChunk> log = List.of(cyclic("a", 0, 4), cyclic("b", 20, 4), cyclic("c", 100, 4));
        loop(log, new TrainerSettings("m", "i0", 4, 0, 100_000, 4096).withBatchLookahead(4, 50)).run();
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(8L, 4L);

        sink.sent.clear();
        try (Learner wide = Learners.create(config())) {
            loop(wide, entries(log), TrainerLoop.Resume.FRESH,
                    new TrainerSettings("m", "i0", 4, 0, 100_000, 4096).withBatchLookahead(4, 1_000)).run();
        }
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(12L);
    }

    /** The checkpoints of the snapshots published so far, in order (each snapshot in one chunk). */
    private List<TrainerCheckpoint> checkpoints() {
        return sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class).stream().map(c -> {
            final ByteBuffer b = c.getPayload().duplicate();
            final byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            try {
                return TrainerCheckpoint.decode(bytes);
            } catch (final java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();
    }

    @Test
    void deltasAreChunkedUnderTheEntryLimitAndReplayToTheTrainedWeights() throws Exception {
        final Map<String, float[]> initial = learner.parameters();
        final List<TimedChunk> queue = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            queue.add(cyclic("a", c * 10, 10));
        }
        final int maxEntries = 97;
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 0, maxEntries, 4096));
        loop.run();

        final List<ModelDelta> deltas = sink.of(TOPICS.deltas(), ModelDelta.class);
        assertThat(deltas).allSatisfy(d -> assertThat(d.getUpdate().getIndices()).hasSizeLessThanOrEqualTo(maxEntries));
        assertThat(deltas).anySatisfy(d -> assertThat(d.getChunkCount()).isGreaterThan(1));
        // every (version, tensor) has exactly chunkCount chunks, indexed 0..count-1
        final Map<String, List<ModelDelta>> groups = deltas.stream()
                .collect(Collectors.groupingBy(d -> d.getVersion() + "/" + d.getTensor(), TreeMap::new, Collectors.toList()));
        assertThat(groups.values()).allSatisfy(g -> assertThat(g).extracting(ModelDelta::getChunkIndex)
                .containsExactlyElementsOf(IntStream.range(0, g.getFirst().getChunkCount()).boxed().toList()));
        assertThat(deltas).extracting(ModelDelta::getVersion).contains(learner.version());

        final Map<String, float[]> replayed = new TreeMap<>();
        initial.forEach((k, v) -> replayed.put(k, v.clone()));
        for (final ModelDelta d : deltas) {
            final float[] w = replayed.get(d.getTensor());
            assertThat(w).as("tensor %s", d.getTensor()).isNotNull().hasSize(d.getTensorSize());
            for (int i = 0; i < d.getUpdate().getIndices().size(); i++) {
                w[d.getUpdate().getIndices().get(i)] += d.getUpdate().getValues().get(i);
            }
        }
        final Map<String, float[]> trained = learner.parameters();
        assertThat(replayed.keySet()).isEqualTo(trained.keySet());
        for (final String name : trained.keySet()) {
            final float[] want = trained.get(name);
            final float[] got = replayed.get(name);
            for (int i = 0; i < want.length; i++) {
                assertThat(got[i]).as("%s[%d]", name, i).isCloseTo(want[i], within(1e-4f));
            }
        }
    }

    @Test
    void snapshotsAreChunkedAndReassembleToTheirChecksum() throws Exception {
        final List<TimedChunk> queue = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            queue.add(cyclic("a", c * 10, 10));
        }
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 2, 100_000, 1000));
        loop.run();

        final List<ModelSnapshotChunk> chunks = sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class);
        assertThat(chunks).extracting(ModelSnapshotChunk::getVersion).containsOnly(2L, 4L, 6L);
        // keyed modelId/version/chunkIndex; the newest two are kept (the older one is the fallback): version 2 is
        // retired by tombstones only after version 6 is complete
        final List<RecordingSink.Sent> onTopic = sink.sent.stream().filter(s -> s.topic().equals(TOPICS.snapshots())).toList();
        final int chunksOf2 = (int) chunks.stream().filter(c -> c.getVersion() == 2L).count();
        final int chunksOf4 = (int) chunks.stream().filter(c -> c.getVersion() == 4L).count();
        final int chunksOf6 = chunks.size() - chunksOf2 - chunksOf4;
        assertThat(onTopic.subList(0, chunksOf2)).allSatisfy(s -> assertThat(s.key()).startsWith("m/2/"));
        assertThat(onTopic.subList(chunksOf2, chunksOf2 + chunksOf4)).allSatisfy(s -> assertThat(s.key()).startsWith("m/4/"));
        final int published = chunks.size();
        assertThat(onTopic.subList(chunksOf2 + chunksOf4, published)).allSatisfy(s -> assertThat(s.key()).startsWith("m/6/"));
        assertThat(onTopic.subList(published, onTopic.size())).extracting(RecordingSink.Sent::key)
                .containsExactlyElementsOf(IntStream.range(0, chunksOf2).mapToObj(c -> "m/2/" + c).toList());
        assertThat(onTopic.subList(published, onTopic.size())).allSatisfy(s -> assertThat(s.value()).isNull());
        assertThat(chunksOf6).isPositive();
        assertThat(sink.flushes).isGreaterThanOrEqualTo(2);
        for (final long version : List.of(2L, 4L, 6L)) {
            final List<ModelSnapshotChunk> of = chunks.stream().filter(c -> c.getVersion() == version).toList();
            assertThat(of.size()).isEqualTo(of.getFirst().getChunkCount()).isGreaterThan(1);
            final ByteArrayOutputStream whole = new ByteArrayOutputStream();
            for (final ModelSnapshotChunk c : of) {
                assertThat(c.getPayload().remaining()).isLessThanOrEqualTo(1000);
                final ByteBuffer b = c.getPayload().duplicate();
                final byte[] part = new byte[b.remaining()];
                b.get(part);
                whole.write(part);
            }
            assertThat((long) whole.size()).isEqualTo(of.getFirst().getTotalBytes());
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(whole.toByteArray())))
                    .isEqualTo(of.getFirst().getSha256());
            // the payload says where in the chunk log the state stands: after the chunk of this version (and, for
            // the last one, after the barrier that closed its batch)
            final TrainerCheckpoint checkpoint = TrainerCheckpoint.decode(whole.toByteArray());
            assertThat(of.getFirst().getFormat()).isEqualTo(TrainerCheckpoint.FORMAT);
            assertThat(checkpoint.chunkOffset()).isEqualTo(version == 6 ? 7 : version);
            assertThat(checkpoint.eventsTrained()).isEqualTo(10 * version);
            assertThat(checkpoint.chunkTopic()).isEqualTo(TOPICS.chunks());
        }
        assertThat(source.truncatedBefore).as("the log before the older of the two snapshots kept is let go")
                .isEqualTo(4);
    }

    @Test
    void aFailingStepStopsTheLoopWithoutMovingPastItsChunk() throws Exception {
        final SparseEvent outOfVocabulary = SparseEvent.ofType(VOCAB + 3);
        final TrainerLoop loop = loop(List.of(cyclic("a", 0, 4), new TimedChunk(new SequenceChunk("bad",
                List.of(SparseEvent.ofType(1), outOfVocabulary)), new long[] {1, 2})),
                new TrainerSettings("m", "i0", 4, 0, 100_000, 4096));
        loop.run();

        assertThat(loop.failure()).isNotNull();
        assertThat(loop.eventsTrained()).isZero();
        assertThat(sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class)).isEmpty();
    }

    /**
     * The crash-equivalence property at the trainer's level: a run stopped anywhere, restored from its last
     * snapshot (which is older than the stop: the steps after it are lost, as in a crash) and resumed at the
     * snapshot's log offset ends with the same state bytes, optimizer and carried states included, as a run
     * that never stopped. The log mixes keys, repeats and barriers.
     */
    @Test
    void aRunResumedFromASnapshotEndsBitIdenticalToAnUninterruptedOne() throws Exception {
        final List<ChunkSource.Entry> log = new ArrayList<>();
        final java.util.Random random = new java.util.Random(5);
        final Map<String, Integer> at = new TreeMap<>();
        for (int i = 0; i < 90; i++) {
            if (random.nextInt(9) == 0) {
                log.add(ChunkSource.Entry.barrier(log.size()));
            }
            final String key = "k" + random.nextInt(6);
            final int from = at.merge(key, 6, Integer::sum) - 6;
            log.add(new ChunkSource.Entry(log.size(), cyclic(key, from, 6)));
        }
        log.add(ChunkSource.Entry.barrier(log.size()));
        final TrainerSettings settings = new TrainerSettings("m", "i0", 3, 4, 100_000, 1 << 20);

        loop(learner, log, TrainerLoop.Resume.FRESH, settings).run();
        final byte[] uninterrupted = state(learner);
        final long steps = learner.version();
        assertThat(steps).isGreaterThan(30);

        int aheadRestored = 0;
        for (int stopAfter = 5; stopAfter < log.size(); stopAfter += 4) {
            sink.sent.clear();
            // the crashed run: trains the log up to stopAfter entries, publishing snapshots every 4 versions
            try (Learner crashed = Learners.create(config())) {
                final TrainerLoop first = loop(crashed, log.subList(0, stopAfter), TrainerLoop.Resume.FRESH,
                        new TrainerSettings("m", "i0", 3, 4, 100_000, 1 << 20));
                first.run();
            }
            // its newest snapshot published before the crash (the clean-stop one is left out: a crash leaves none)
            final List<ModelSnapshotChunk> periodic = sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class);
            try (Learner restarted = Learners.create(config())) {
                TrainerLoop.Resume resume = TrainerLoop.Resume.FRESH;
                final long newest = periodic.stream().mapToLong(ModelSnapshotChunk::getVersion).filter(v -> v % 4 == 0)
                        .max().orElse(-1);
                if (newest > 0) {
                    final ByteArrayOutputStream whole = new ByteArrayOutputStream();
                    for (final ModelSnapshotChunk c : periodic) {
                        if (c.getVersion() == newest) {
                            final ByteBuffer b = c.getPayload().duplicate();
                            final byte[] part = new byte[b.remaining()];
                            b.get(part);
                            whole.write(part);
                        }
                    }
                    final TrainerCheckpoint checkpoint = TrainerCheckpoint.decode(whole.toByteArray());
                    restarted.readState(new java.io.DataInputStream(new java.io.ByteArrayInputStream(checkpoint.learnerState())));
                    resume = new TrainerLoop.Resume(checkpoint.chunkOffset(), checkpoint.trainedAhead(),
                            checkpoint.eventsTrained(), newest, 1);
                    aheadRestored += checkpoint.trainedAhead().length;
                }
                loop(restarted, log, resume, settings).run();
                assertThat(restarted.version()).isEqualTo(steps);
                assertThat(state(restarted)).as("state after a stop at entry %d", stopAfter).isEqualTo(uninterrupted);
            }
        }
        assertThat(aheadRestored).as("restored positions with entries trained past them (lookahead)").isPositive();
    }

    /**
     * A replica that fell behind a truncation of the log (another replica's snapshot includes the entries it has
     * not read) jumps to the newest snapshot and ends bit-identical to the replica that never fell behind.
     */
    @Test
    void aReplicaBehindATruncatedLogContinuesFromTheNewestSnapshot() throws Exception {
        final List<TimedChunk> chunks = new ArrayList<>();
        for (int c = 0; c < 30; c++) {
            chunks.add(cyclic("k" + c % 5, (c / 5) * 6, 6));
        }
        final List<ChunkSource.Entry> log = entries(chunks);
        final TrainerSettings settings = new TrainerSettings("m", "i0", 3, 4, 100_000, 1 << 20);
        loop(learner, log, TrainerLoop.Resume.FRESH, settings).run();
        final byte[] ahead = state(learner);
        final List<ModelSnapshotChunk> snapshots = sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class);
        final ModelSnapshotChunk newest = snapshots.stream().filter(c -> c.getVersion() == 8).findFirst().orElseThrow();
        final ByteBuffer payload = newest.getPayload().duplicate();
        final byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        final TrainerCheckpoint checkpoint = TrainerCheckpoint.decode(bytes);

        try (Learner behind = Learners.create(config())) {
            final boolean[] truncated = {true};
            final TrainerLoop[] loop = new TrainerLoop[1];
            final ListChunkSource log2 = new ListChunkSource(log, 0, () -> loop[0].stop()) {
                @Override
                public List<Entry> poll(final java.time.Duration timeout) {
                    if (truncated[0]) {
                        truncated[0] = false;
                        throw new ChunkSource.TruncatedException("log starts at " + checkpoint.chunkOffset(), null);
                    }
                    return super.poll(timeout);
                }
            };
            loop[0] = new TrainerLoop(context(behind, settings), log2, TrainerLoop.Resume.FRESH, () -> {
                try {
                    behind.readState(new java.io.DataInputStream(new java.io.ByteArrayInputStream(checkpoint.learnerState())));
                } catch (final java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return new TrainerLoop.Resume(checkpoint.chunkOffset(), checkpoint.trainedAhead(), checkpoint.eventsTrained(),
                        8, 1);
            });
            loop[0].run();
            assertThat(loop[0].failure()).isNull();
            assertThat(loop[0].eventsTrained()).as("trained only what the snapshot lacks")
                    .isEqualTo(30 * 6 - checkpoint.eventsTrained());
            assertThat(loop[0].eventsTrainedTotal()).isEqualTo(30 * 6);
            assertThat(state(behind)).isEqualTo(ahead);
        }
    }

    /**
     * When the newest snapshot that could be restored stands before the log's start (the ones after it were refused
     * and the log was truncated behind them), the loop continues from the log's start rather than stop: the entries
     * in between are lost to the model, the rest is trained.
     */
    @Test
    void aRestoredSnapshotBeforeTheLogsStartContinuesFromTheStart() throws Exception {
        final List<TimedChunk> chunks = new ArrayList<>();
        for (int c = 0; c < 12; c++) {
            chunks.add(cyclic("k" + c % 3, (c / 3) * 6, 6));
        }
        final List<ChunkSource.Entry> log = entries(chunks);
        final long logStart = 6;
        final TrainerSettings settings = new TrainerSettings("m", "i0", 3, 0, 100_000, 1 << 20);
        final TrainerLoop[] loop = new TrainerLoop[1];
        final ListChunkSource truncated = new ListChunkSource(log.subList((int) logStart, log.size()), 2,
                () -> loop[0].stop()) {
            private boolean first = true;

            @Override
            public List<Entry> poll(final java.time.Duration timeout) {
                if (first) {
                    first = false;
                    throw new ChunkSource.TruncatedException("log starts at " + logStart, null);
                }
                return super.poll(timeout);
            }

            @Override
            public long firstOffset() {
                return logStart;
            }
        };
        // the restore point: a snapshot at offset 2 (its successors refused), restored again on catching up
        final TrainerLoop.Resume at2 = new TrainerLoop.Resume(2, 12, 1, 1);
        loop[0] = new TrainerLoop(context(learner, settings), truncated, at2, () -> at2);
        loop[0].run();
        assertThat(loop[0].failure()).isNull();
        final long after = log.subList((int) logStart, log.size()).stream().filter(e -> !e.isBarrier())
                .mapToLong(e -> e.chunk().size()).sum();
        assertThat(loop[0].eventsTrained()).as("everything the log still holds").isEqualTo(after);
    }

    private static byte[] state(final Learner l) throws java.io.IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            l.writeState(out);
        }
        return bytes.toByteArray();
    }
}
