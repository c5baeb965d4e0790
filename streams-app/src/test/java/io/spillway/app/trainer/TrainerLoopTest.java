package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.spillway.app.topology.ChunkQueue;
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
    private static TimedChunk cyclic(final String key, final int from, final int length) {
        final List<SparseEvent> events = new ArrayList<>();
        final long[] ts = new long[length];
        for (int i = 0; i < length; i++) {
            events.add(SparseEvent.ofType((from + i) % VOCAB));
            ts[i] = 1_000L + from + i;
        }
        return new TimedChunk(new SequenceChunk(key, events), ts, from == 0 ? -1 : 1_000L + from - 1);
    }

    private TrainerLoop loop(final ChunkQueue queue, final TrainerSettings settings) {
        return new TrainerLoop(learner, queue, sink, TOPICS, settings, f -> { }, () -> 42L, () -> 3L);
    }

    @Test
    void trainsEveryQueuedEventPublishesOneMetricsRecordPerStepAndTheLossFalls() throws Exception {
        final ChunkQueue queue = new ChunkQueue(1_000);
        final int chunks = 60;
        final int length = 16;
        for (int c = 0; c < chunks; c++) {
            for (final String key : List.of("a", "b")) {
                queue.put(cyclic(key, c * length, length));
            }
        }
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 2, 0, 100_000, 4096));
        loop.stop();
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
    }

    @Test
    void aKeysLaterChunkWaitsForTheNextStepSoEachStepHasDistinctKeys() throws Exception {
        final ChunkQueue queue = new ChunkQueue(100);
        queue.put(cyclic("a", 0, 8));
        queue.put(cyclic("a", 8, 8));
        queue.put(cyclic("a", 16, 8));
        queue.put(cyclic("b", 0, 5));
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 0, 100_000, 4096));
        loop.stop();
        loop.run();

        assertThat(loop.steps()).isEqualTo(3);
        assertThat(sink.of(TOPICS.metrics(), TrainingMetrics.class)).extracting(TrainingMetrics::getBatchEvents)
                .containsExactly(13L, 8L, 8L);
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

    @Test
    void deltasAreChunkedUnderTheEntryLimitAndReplayToTheTrainedWeights() throws Exception {
        final Map<String, float[]> initial = learner.parameters();
        final ChunkQueue queue = new ChunkQueue(100);
        for (int c = 0; c < 6; c++) {
            queue.put(cyclic("a", c * 10, 10));
        }
        final int maxEntries = 97;
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 0, maxEntries, 4096));
        loop.stop();
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
        final ChunkQueue queue = new ChunkQueue(100);
        for (int c = 0; c < 4; c++) {
            queue.put(cyclic("a", c * 10, 10));
        }
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 2, 100_000, 1000));
        loop.stop();
        loop.run();

        final List<ModelSnapshotChunk> chunks = sink.of(TOPICS.snapshots(), ModelSnapshotChunk.class);
        assertThat(chunks).extracting(ModelSnapshotChunk::getVersion).containsOnly(2L, 4L);
        // keyed modelId/version/chunkIndex; version 2 is retired by tombstones only after version 4 is complete
        final List<RecordingSink.Sent> onTopic = sink.sent.stream().filter(s -> s.topic().equals(TOPICS.snapshots())).toList();
        final int chunksOf4 = (int) chunks.stream().filter(c -> c.getVersion() == 4L).count();
        final int chunksOf2 = chunks.size() - chunksOf4;
        assertThat(onTopic.subList(0, chunksOf2)).allSatisfy(s -> assertThat(s.key()).startsWith("m/2/"));
        assertThat(onTopic.subList(chunksOf2, chunksOf2 + chunksOf4)).allSatisfy(s -> assertThat(s.key()).startsWith("m/4/"));
        assertThat(onTopic.subList(chunksOf2 + chunksOf4, onTopic.size())).extracting(RecordingSink.Sent::key)
                .containsExactlyElementsOf(IntStream.range(0, chunksOf2).mapToObj(c -> "m/2/" + c).toList());
        assertThat(onTopic.subList(chunksOf2 + chunksOf4, onTopic.size())).allSatisfy(s -> assertThat(s.value()).isNull());
        assertThat(sink.flushes).isGreaterThanOrEqualTo(2);
        for (final long version : List.of(2L, 4L)) {
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
        }
    }

    @Test
    void aFailingStepStopsTheLoopAndClosesTheQueueSoStreamThreadsFailInsteadOfBlocking() throws Exception {
        final ChunkQueue queue = new ChunkQueue(1);
        final SparseEvent outOfVocabulary = SparseEvent.ofType(VOCAB + 3);
        queue.put(new TimedChunk(new SequenceChunk("bad", List.of(SparseEvent.ofType(1), outOfVocabulary)),
                new long[] {1, 2}));
        final TrainerLoop loop = loop(queue, new TrainerSettings("m", "i0", 4, 0, 100_000, 4096));
        loop.run();

        assertThat(loop.failure()).isNotNull();
        assertThat(queue.isClosed()).isTrue();
        final TimedChunk next = cyclic("a", 0, 4);
        assertThatThrownBy(() -> queue.put(next)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("trainer stopped");
        assertThat(queue.depth()).isZero();
    }

    /** Keeps what the trainer publishes, in order. */
    static final class RecordingSink implements TrainingSink {
        record Sent(String topic, String key, SpecificRecord value) {
        }

        final List<Sent> sent = new ArrayList<>();
        int flushes;

        @Override
        public void send(final String topic, final String key, final SpecificRecord value) {
            sent.add(new Sent(topic, key, value));
        }

        <T> List<T> of(final String topic, final Class<T> type) {
            return sent.stream().filter(s -> s.topic().equals(topic) && s.value() != null).map(s -> type.cast(s.value()))
                    .toList();
        }

        @Override
        public void delete(final String topic, final String key) {
            sent.add(new Sent(topic, key, null));
        }

        @Override
        public void flush() {
            flushes++;
        }

        @Override
        public void close() {
        }
    }
}
