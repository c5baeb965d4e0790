package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.Prediction;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.optim.Adam;
import io.spillway.engine.optim.Optimizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SpikingLearnerTest {
    private static final int VOCAB = 8;

    private static LearnerConfig.Builder config() {
        return LearnerConfig.builder().cell("lif").vocabularySize(VOCAB).featureDimension(6).hiddenSize(48).layers(2)
                .optimizer("adam").learningRate(3e-3f).backend("cpu").seed(5L).mixture("none"); // the network alone
    }

    /** Every key follows the Markov chain next = perm[cur], with 10% random events; two sparse features. */
    private static final class MotifSource {
        private final int[] perm = {3, 6, 0, 5, 2, 7, 1, 4};
        private final Random rnd;
        private final int[] cur;

        MotifSource(final int keys, final long seed) {
            rnd = new Random(seed);
            cur = new int[keys];
        }

        List<SequenceChunk> batch(final int length) {
            final List<SequenceChunk> out = new ArrayList<>();
            for (int k = 0; k < cur.length; k++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < length; i++) {
                    cur[k] = rnd.nextInt(10) == 0 ? rnd.nextInt(VOCAB) : perm[cur[k]];
                    ev.add(new SparseEvent(cur[k], new int[] {k % 3, 3 + cur[k] % 3},
                            new float[] {0.5f, (float) rnd.nextGaussian()}, SparseEvent.NO_LABEL));
                }
                out.add(new SequenceChunk("key-" + k, ev));
            }
            return out;
        }
    }

    /** The default optimizer (sparse M-FAC with error feedback) at its default learning rate learns too. */
    @Test
    void defaultSparseMFacLearnsTheMotif() {
        final LearnerConfig cfg = LearnerConfig.builder().cell("lif").vocabularySize(VOCAB).featureDimension(6)
                .hiddenSize(48).layers(2).backend("cpu").seed(5L).build();
        assertThat(cfg.optimizer()).isEqualTo("mfac-sparse");
        try (Learner learner = Learners.create(cfg)) {
            final MotifSource src = new MotifSource(6, 1L);
            double last = 0;
            int targets = 0;
            for (int s = 0; s < 60; s++) {
                final TrainingStep step = learner.train(src.batch(16));
                if (s >= 50) {
                    last += step.lossSum();
                    targets += step.targets();
                }
            }
            // Clearly learning after 5,760 events (Adam gets a little further this early; see efcp.json for the
            // loss after 40k events, where they are level).
            assertThat(last / targets).isLessThan(0.7 * Math.log(VOCAB));
            assertThat(learner.describe()).contains("mfac-sparse");
        }
    }

    @Test
    void learnsAMotifWellBelowTheUniformLoss() {
        try (Learner learner = Learners.create(config().build())) {
            final MotifSource src = new MotifSource(6, 1L);
            double first = 0;
            double last = 0;
            int lastTargets = 0;
            for (int i = 0; i < 60; i++) {
                final TrainingStep step = learner.train(src.batch(24));
                assertThat(step.diverged()).isFalse();
                if (i == 1) {
                    first = step.meanLoss();
                }
                if (i >= 50) {
                    last += step.lossSum();
                    lastTargets += step.targets();
                }
            }
            final double uniform = Math.log(VOCAB);
            LoggerFactory.getLogger(SpikingLearnerTest.class).info("motif task: mean loss {} after 1 step, {} over"
                    + " steps 50-59; uniform {}", first, last / lastTargets, uniform);
            assertThat(first).isGreaterThan(0.8 * uniform);
            assertThat(last / lastTargets).isLessThan(0.6 * uniform);
            assertThat(learner.version()).isEqualTo(60);
        }
    }

    @Test
    void adaptiveThresholdLearnerLearnsAndRestoresBitIdentically() throws IOException {
        final LearnerConfig cfg = config().adaptation(0.2f).adaptationDecay(0.9f).build();
        try (SpikingLearner a = (SpikingLearner) Learners.create(cfg);
             SpikingLearner b = (SpikingLearner) Learners.create(cfg)) {
            assertThat(a.describe()).contains("adaptation=0.2");
            final MotifSource src = new MotifSource(6, 12L);
            double last = 0;
            int targets = 0;
            byte[] snap = null;
            for (int i = 0; i < 60; i++) {
                final List<SequenceChunk> batch = src.batch(24);
                if (i == 55) {
                    snap = state(a);
                    b.readState(new DataInputStream(new ByteArrayInputStream(snap)));
                }
                final TrainingStep step = a.train(batch);
                if (i >= 55) {
                    assertThat(b.train(batch).lossSum()).isEqualTo(step.lossSum());
                }
                if (i >= 50) {
                    last += step.lossSum();
                    targets += step.targets();
                }
            }
            assertThat(last / targets).isLessThan(0.7 * Math.log(VOCAB));
            assertThat(state(b)).isEqualTo(state(a));
        }
    }

    @Test
    void twoRunsAreBitIdenticalOnJavaLoopsAndOnBlas() throws IOException {
        for (final long blasThreshold : new long[] {Long.MAX_VALUE, 0}) {
            final byte[][] runs = new byte[2][];
            for (int r = 0; r < 2; r++) {
                try (SpikingLearner l = new SpikingLearner(config().build(), new CpuBackend(blasThreshold),
                        new Adam(3e-3f))) {
                    final MotifSource src = new MotifSource(5, 13L);
                    for (int i = 0; i < 4; i++) {
                        l.train(src.batch(9));
                    }
                    runs[r] = state(l);
                }
            }
            assertThat(runs[1]).as("blas threshold %d", blasThreshold).isEqualTo(runs[0]);
        }
    }

    @Test
    void predictionsAreMadeBeforeTheUpdate() {
        final List<SequenceChunk> batch = new MotifSource(4, 21L).batch(12);
        try (Learner slow = Learners.create(config().learningRate(1e-30f).build());
             Learner fast = Learners.create(config().learningRate(0.5f).build())) {
            final TrainingStep a = slow.train(batch);
            final TrainingStep b = fast.train(batch);
            // same weights before the step, so the same predictions; the updates differ wildly
            assertThat(b.predictions()).isEqualTo(a.predictions());
            assertThat(b.lossSum()).isEqualTo(a.lossSum());
            assertThat(fast.parameters().get("readout.bias")).isNotEqualTo(slow.parameters().get("readout.bias"));
        }
    }

    @Test
    void chunksOfDifferentLengthsInOneBatchAreMasked() {
        // weights fixed by an update below fp32 resolution: each key must see exactly what it sees alone
        final LearnerConfig cfg = config().learningRate(1e-30f).build();
        final List<SequenceChunk> full = new MotifSource(3, 22L).batch(15);
        final List<SequenceChunk> ragged = List.of(full.get(0),
                new SequenceChunk(full.get(1).key(), full.get(1).events().subList(0, 4)),
                new SequenceChunk(full.get(2).key(), full.get(2).events().subList(0, 9)));
        try (Learner together = Learners.create(cfg)) {
            final List<Prediction> all = together.train(ragged).predictions();
            assertThat(all).hasSize(14 + 3 + 8);
            for (final SequenceChunk c : ragged) {
                try (Learner alone = Learners.create(cfg)) {
                    final List<Prediction> mine = alone.train(List.of(c)).predictions();
                    assertThat(all.stream().filter(p -> p.key().equals(c.key())).toList()).isEqualTo(mine);
                }
            }
        }
    }

    @Test
    void firstEventOnlyPrimesAndPendingEventsCarryOver() {
        try (Learner learner = Learners.create(config().build())) {
            final TrainingStep one = learner.train(List.of(new SequenceChunk("a", List.of(SparseEvent.ofType(1)))));
            assertThat(one.targets()).isZero();
            assertThat(one.version()).isZero();
            final TrainingStep two = learner.train(List.of(
                    new SequenceChunk("a", List.of(SparseEvent.ofType(2), SparseEvent.ofType(3))),
                    new SequenceChunk("b", List.of(SparseEvent.ofType(4), SparseEvent.ofType(5),
                            new SparseEvent(6, new int[0], new float[0], 0)))));
            // a: 1->2, 2->3 ; b: 4->5, 5->6 (the labelled 6 waits for the next chunk)
            assertThat(two.targets()).isEqualTo(4);
            assertThat(two.predictions()).extracting(Prediction::key, Prediction::stepInChunk, Prediction::actualType)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("a", 0, 2),
                            org.assertj.core.groups.Tuple.tuple("a", 1, 3),
                            org.assertj.core.groups.Tuple.tuple("b", 1, 5),
                            org.assertj.core.groups.Tuple.tuple("b", 2, 6));
            final TrainingStep three = learner.train(List.of(new SequenceChunk("b", List.of(SparseEvent.ofType(7)))));
            // the pending labelled event's target is its label 0, reported at index -1 (previous chunk)
            assertThat(three.predictions()).extracting(Prediction::stepInChunk, Prediction::actualType)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(-1, 0));
            assertThat(two.lossSum()).isEqualTo(two.predictions().stream().mapToDouble(Prediction::loss).sum(),
                    org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void oneChunkAndTwoChunksGiveTheSameForwardPass() {
        // an update far below fp32 resolution of every weight keeps the weights fixed between the two calls
        final LearnerConfig cfg = config().learningRate(1e-30f).build();
        final List<SequenceChunk> whole = new MotifSource(3, 9L).batch(20);
        final List<SequenceChunk> head = new ArrayList<>();
        final List<SequenceChunk> tail = new ArrayList<>();
        for (final SequenceChunk c : whole) {
            head.add(new SequenceChunk(c.key(), c.events().subList(0, 8)));
            tail.add(new SequenceChunk(c.key(), c.events().subList(8, 20)));
        }
        try (Learner a = Learners.create(cfg); Learner b = Learners.create(cfg)) {
            final List<Prediction> once = a.train(whole).predictions();
            final List<Prediction> twice = new ArrayList<>(b.train(head).predictions());
            twice.addAll(b.train(tail).predictions());
            assertThat(once).hasSize(3 * 19).hasSameSizeAs(twice);
            for (final SequenceChunk c : whole) {
                final List<Prediction> x = once.stream().filter(p -> p.key().equals(c.key())).toList();
                final List<Prediction> y = twice.stream().filter(p -> p.key().equals(c.key())).toList();
                for (int i = 0; i < x.size(); i++) {
                    assertThat(y.get(i).actualType()).isEqualTo(x.get(i).actualType());
                    assertThat(y.get(i).predictedType()).isEqualTo(x.get(i).predictedType());
                    assertThat(y.get(i).loss()).isEqualTo(x.get(i).loss());
                    assertThat(y.get(i).probability()).isEqualTo(x.get(i).probability());
                }
            }
        }
    }

    @Test
    void snapshotRestoreContinuesBitIdentically() throws IOException {
        final MotifSource src = new MotifSource(4, 3L);
        final List<List<SequenceChunk>> batches = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            batches.add(src.batch(10));
        }
        try (SpikingLearner a = (SpikingLearner) Learners.create(config().build());
             SpikingLearner b = (SpikingLearner) Learners.create(config().seed(99L).build())) {
            for (int i = 0; i < 3; i++) {
                a.train(batches.get(i));
            }
            // a key longer than DataOutput.writeUTF allows, and not ASCII
            a.train(List.of(new SequenceChunk("ключ-".repeat(20_000), List.of(SparseEvent.ofType(1),
                    SparseEvent.ofType(2)))));
            final byte[] snap = state(a);
            b.readState(new DataInputStream(new ByteArrayInputStream(snap)));
            assertThat(state(b)).isEqualTo(snap);
            assertThat(b.version()).isEqualTo(4);
            assertThat(b.carriedKeys()).isEqualTo(5);
            for (int i = 3; i < 5; i++) {
                final TrainingStep x = a.train(batches.get(i));
                final TrainingStep y = b.train(batches.get(i));
                assertThat(y.lossSum()).isEqualTo(x.lossSum());
            }
            assertThat(state(b)).isEqualTo(state(a));
        }
    }

    private static byte[] state(final SpikingLearner l) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            l.writeState(out);
        }
        return bytes.toByteArray();
    }

    @Test
    void deltasReproduceTheUpdateOnAReplica() {
        try (Learner a = Learners.create(config().build()); Learner b = Learners.create(config().build())) {
            final MotifSource src = new MotifSource(4, 4L);
            for (int i = 0; i < 3; i++) {
                final TrainingStep step = a.train(src.batch(12));
                assertThat(step.deltas()).isNotEmpty();
                for (final TensorDelta d : step.deltas()) {
                    assertThat(d.values()).doesNotContain(0f);
                    b.applyDelta(d);
                }
            }
            final Map<String, float[]> pa = a.parameters();
            final Map<String, float[]> pb = b.parameters();
            assertThat(pb.keySet()).containsExactlyElementsOf(pa.keySet()).startsWith("layer0.w_in", "layer0.w_rec");
            for (final String name : pa.keySet()) {
                final float[] x = pa.get(name);
                final float[] y = pb.get(name);
                for (int i = 0; i < x.length; i++) {
                    assertThat(y[i]).isCloseTo(x[i], org.assertj.core.data.Offset.offset(1e-6f * (1 + Math.abs(x[i]))));
                }
            }
            assertThat(b.version()).isZero();
        }
    }

    @Test
    void nonFiniteLossIsRolledBack() throws IOException {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config().layers(1).build())) {
            final MotifSource src = new MotifSource(3, 5L);
            l.train(src.batch(6));
            LearnerFaults.saturateLifInputWeights(l, VOCAB + 6, 48);
            final byte[] before = state(l);
            final SparseEvent big = new SparseEvent(1, new int[] {0, 1}, new float[] {1f, 1f}, SparseEvent.NO_LABEL);
            final TrainingStep step = l.train(List.of(new SequenceChunk("key-0", List.of(big, big, big))));
            assertThat(Double.isFinite(step.lossSum())).isFalse();
            assertThat(step.diverged()).isTrue();
            assertThat(step.version()).isEqualTo(step.baseVersion()).isEqualTo(1);
            assertThat(step.deltas()).isEmpty();
            assertThat(state(l)).isEqualTo(before); // weights, optimizer and carried states untouched
            assertThat(l.divergedSteps()).isEqualTo(1);
        }
    }

    /** A faulty optimizer: behaves as Adam, then writes a NaN into the parameters on its second step. */
    private static final class NanOnSecondStep implements Optimizer {
        private final Adam inner = new Adam(1e-3f);
        /** Whether it offers Adam's own undo, or leaves the learner to round-trip the state bytes. */
        private final boolean undoes;

        NanOnSecondStep(final boolean undoes) {
            this.undoes = undoes;
        }

        @Override
        public boolean markStep() {
            return undoes && inner.markStep();
        }

        @Override
        public void undoStep() {
            inner.undoStep();
        }

        @Override
        public void initialise(final int dimension) {
            inner.initialise(dimension);
        }

        @Override
        public void step(final float[] params, final float[] gradient) {
            inner.step(params, gradient);
            if (inner.steps() == 2) {
                params[params.length / 2] = Float.NaN;
            }
        }

        @Override
        public String describe() {
            return "nan-on-second-step";
        }

        @Override
        public long stateBytes() {
            return inner.stateBytes();
        }

        @Override
        public long steps() {
            return inner.steps();
        }

        @Override
        public void writeState(final DataOutput out) throws IOException {
            inner.writeState(out);
        }

        @Override
        public void readState(final DataInput in) throws IOException {
            inner.readState(in);
        }

        @Override
        public void reset() {
            inner.reset();
        }

        @Override
        public Optimizer copy() {
            return new NanOnSecondStep(undoes);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "optimizer undoes itself: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void nonFiniteUpdateRestoresParametersAndOptimizer(final boolean undoes) throws IOException {
        final NanOnSecondStep opt = new NanOnSecondStep(undoes);
        try (SpikingLearner l = new SpikingLearner(config().build(), new CpuBackend(), opt)) {
            final MotifSource src = new MotifSource(3, 6L);
            assertThat(l.train(src.batch(6)).diverged()).isFalse();
            final byte[] before = state(l);
            final TrainingStep step = l.train(src.batch(6));
            assertThat(step.diverged()).isTrue();
            assertThat(step.version()).isEqualTo(1);
            assertThat(opt.steps()).isEqualTo(1);
            assertThat(state(l)).isEqualTo(before);
        }
    }

    @Test
    void carriedKeysAreBoundedLeastRecentFirst() {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config().maxCarriedKeys(2).build())) {
            final List<SparseEvent> ev = List.of(SparseEvent.ofType(1), SparseEvent.ofType(2));
            l.train(List.of(new SequenceChunk("a", ev), new SequenceChunk("b", ev)));
            l.train(List.of(new SequenceChunk("a", ev)));
            l.train(List.of(new SequenceChunk("c", ev)));
            assertThat(l.carriedKeys()).isEqualTo(2);
            assertThat(l.evictedKeys()).isEqualTo(1);
            // a still has a pending event; b was evicted, so its next chunk starts over (first event primes)
            assertThat(l.train(List.of(new SequenceChunk("a", ev))).targets()).isEqualTo(2);
            assertThat(l.train(List.of(new SequenceChunk("b", ev))).targets()).isEqualTo(1);
        }
    }

    @Test
    void badInputIsRejectedBeforeAnythingChanges() throws IOException {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config().build())) {
            l.train(new MotifSource(2, 8L).batch(4));
            final byte[] before = state(l);
            final SequenceChunk ok = new SequenceChunk("key-0", List.of(SparseEvent.ofType(1), SparseEvent.ofType(2)));
            assertThatThrownBy(() -> l.train(List.of(ok, new SequenceChunk("x", List.of(SparseEvent.ofType(VOCAB))))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key 'x' event 0: eventType 8");
            assertThatThrownBy(() -> l.train(List.of(ok, ok))).hasMessageContaining("twice");
            assertThatThrownBy(() -> l.train(List.of(new SequenceChunk("y", List.of(
                    new SparseEvent(1, new int[] {2, 1}, new float[] {1f, 1f}, SparseEvent.NO_LABEL))))))
                    .hasMessageContaining("strictly increasing");
            assertThatThrownBy(() -> l.train(List.of(new SequenceChunk("y", List.of(
                    new SparseEvent(1, new int[] {2}, new float[] {Float.NaN}, SparseEvent.NO_LABEL))))))
                    .hasMessageContaining("not finite");
            assertThatThrownBy(() -> l.applyDelta(new TensorDelta("nope", 1, new int[] {0}, new float[] {1f})))
                    .hasMessageContaining("unknown tensor");
            assertThat(state(l)).isEqualTo(before);
        }
    }

    @Test
    void factoryRejectsWhatThisBuildDoesNotHave() {
        assertThatThrownBy(() -> Learners.create(config().optimizer("lbfgs").build()))
                .hasMessageContaining("optimizer 'lbfgs'");
        assertThatThrownBy(() -> Learners.create(config().checkpointSchedule("sometimes").build()))
                .hasMessageContaining("schedule 'sometimes'");
        try (Learner l = Learners.create(config().optimizer("sgd").build())) {
            l.train(new MotifSource(4, 2L).batch(8));
            assertThat(l.describe()).contains("hidden=48x2", "backend=cpu", "schedule=bptt (auto)");
        }
    }

    @Test
    void memoryIsBookedWithTheAccountant() {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config().build())) {
            final TrainingStep step = l.train(new MotifSource(4, 2L).batch(16));
            final long weights = 3L * 4 * l.parameters().values().stream().mapToLong(p -> p.length).sum();
            final long optimizer = step.memory().optimizerWindowBytes();
            assertThat(optimizer).isEqualTo(weights / 3 * 2);
            // tapes: 15 steps x (2 layers x 4 keys x 48 potentials x 4 bytes) at least
            assertThat(step.memory().peakDeviceBytes()).isGreaterThan(weights + optimizer + 15L * 2 * 4 * 48 * 4);
            assertThat(step.memory().forwardSteps()).isEqualTo(15).isEqualTo(step.memory().trainedSteps());
            assertThat(l.accountant().liveBytes(io.spillway.engine.memory.MemoryTier.DEVICE))
                    .isEqualTo(weights + optimizer);
        }
        // A window too long for BPTT in the budget is trained with checkpointing, to the same result.
        final Map<String, float[]> reference;
        try (Learner l = Learners.create(config().checkpointSchedule("bptt").build())) {
            l.train(new MotifSource(4, 2L).batch(200));
            reference = l.parameters();
        }
        try (Learner l = Learners.create(config().deviceMemoryBytes(300_000).build())) {
            final TrainingStep step = l.train(new MotifSource(4, 2L).batch(200));
            assertThat(step.schedule()).isNotEqualTo("bptt");
            assertThat(step.memory().peakDeviceBytes()).isLessThanOrEqualTo(300_000);
            assertThat(step.memory().recomputedSteps()).isPositive();
            // Standard checkpointing keeps its checkpoints on the device; the remote schedules move bytes.
            assertThat(step.memory().transferBytes() > 0).isEqualTo(!step.schedule().startsWith("uniform"));
            for (final Map.Entry<String, float[]> e : l.parameters().entrySet()) {
                assertThat(e.getValue()).as(e.getKey()).containsExactly(reference.get(e.getKey()));
            }
        }
        // A budget nothing fits fails before training; nothing is committed and a fitting window trains.
        final long base;
        try (SpikingLearner probe = (SpikingLearner) Learners.create(config().build())) {
            base = probe.accountant().liveBytes(io.spillway.engine.memory.MemoryTier.DEVICE);
        }
        try (Learner l = Learners.create(config().deviceMemoryBytes(base + 3_000).build())) {
            final MotifSource src = new MotifSource(4, 2L);
            assertThatThrownBy(() -> l.train(src.batch(200)))
                    .isInstanceOf(io.spillway.engine.checkpoint.ScheduleDoesNotFitException.class)
                    .hasMessageContaining("--device-memory");
            assertThat(l.version()).isZero();
        }
    }
}
