package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The learner over either cell: the EGRU learns, reports its activity, restores bit-identically from its own
 * snapshot; a snapshot of one cell is refused by a learner of the other with the reason; LIF snapshots written
 * before the cell seam (format 2) still restore.
 */
class CellSeamTest {
    private static final int VOCAB = 8;

    private static LearnerConfig.Builder config(final String cell) {
        return LearnerConfig.builder().cell(cell).vocabularySize(VOCAB).featureDimension(6).hiddenSize(48).layers(2)
                .optimizer("adam").learningRate(1e-2f).backend("cpu").seed(5L);
    }

    /** Every key follows next = perm[cur] with 10% random events. */
    private static List<List<SequenceChunk>> motif(final int steps, final int keys, final int length, final long seed) {
        final int[] perm = {3, 6, 0, 5, 2, 7, 1, 4};
        final Random rnd = new Random(seed);
        final int[] cur = new int[keys];
        final List<List<SequenceChunk>> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            final List<SequenceChunk> batch = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < length; i++) {
                    cur[k] = rnd.nextInt(10) == 0 ? rnd.nextInt(VOCAB) : perm[cur[k]];
                    ev.add(new SparseEvent(cur[k], new int[] {k % 3, 3 + cur[k] % 3},
                            new float[] {0.5f, (float) rnd.nextGaussian()}, SparseEvent.NO_LABEL));
                }
                batch.add(new SequenceChunk("key-" + k, ev));
            }
            out.add(batch);
        }
        return out;
    }

    private static byte[] state(final Learner l) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            l.writeState(out);
        }
        return bytes.toByteArray();
    }

    private static void restore(final Learner l, final byte[] snap) throws IOException {
        l.readState(new DataInputStream(new ByteArrayInputStream(snap)));
    }

    @Test
    void egruLearnsTheMotifAtBoundedActivity() {
        try (Learner learner = Learners.create(config("egru").build())) {
            assertThat(learner.describe()).startsWith("egru(");
            double last = 0;
            int targets = 0;
            double activity = 0;
            final List<List<SequenceChunk>> batches = motif(60, 6, 24, 1L);
            for (int s = 0; s < batches.size(); s++) {
                final TrainingStep step = learner.train(batches.get(s));
                assertThat(step.diverged()).isFalse();
                assertThat(step.activity()).isBetween(0.0, 1.0);
                if (s >= 50) {
                    last += step.lossSum();
                    targets += step.targets();
                    activity += step.activity() / 10;
                }
            }
            assertThat(last / targets).isLessThan(0.6 * Math.log(VOCAB));
            assertThat(activity).isGreaterThan(0.01).isLessThan(0.4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lif", "egru"})
    void snapshotRestoreContinuesBitIdentically(final String cell) throws IOException {
        final List<List<SequenceChunk>> batches = motif(6, 4, 10, 3L);
        try (Learner a = Learners.create(config(cell).build());
             Learner b = Learners.create(config(cell).seed(99L).build())) {
            for (int i = 0; i < 3; i++) {
                a.train(batches.get(i));
            }
            final byte[] snap = state(a);
            restore(b, snap);
            assertThat(state(b)).isEqualTo(snap);
            for (int i = 3; i < 6; i++) {
                assertThat(b.train(batches.get(i)).lossSum()).isEqualTo(a.train(batches.get(i)).lossSum());
            }
            assertThat(state(b)).isEqualTo(state(a));
        }
    }

    @Test
    void aSnapshotOfOneCellIsRefusedByTheOtherWithTheReason() throws IOException {
        try (Learner lif = Learners.create(config("lif").build());
             Learner egru = Learners.create(config("egru").build())) {
            lif.train(motif(1, 2, 5, 1L).getFirst());
            egru.train(motif(1, 2, 5, 1L).getFirst());
            final byte[] lifSnap = state(lif);
            final byte[] egruSnap = state(egru);
            final byte[] egruBefore = state(egru);
            assertThatThrownBy(() -> restore(egru, lifSnap)).isInstanceOf(IOException.class)
                    .hasMessageContaining("'lif' learner").hasMessageContaining("cell is 'egru'");
            assertThatThrownBy(() -> restore(lif, egruSnap)).isInstanceOf(IOException.class)
                    .hasMessageContaining("'egru' learner").hasMessageContaining("cell is 'lif'");
            assertThat(state(egru)).isEqualTo(egruBefore); // refused at the header: nothing changed
            // another EGRU shape is refused too
            try (Learner wider = Learners.create(config("egru").hiddenSize(64).build())) {
                assertThatThrownBy(() -> restore(wider, egruSnap)).isInstanceOf(IOException.class)
                        .hasMessageContaining("EGRU shape");
            }
        }
    }

    /**
     * Format 2 (before the seam): magic, 2, five LIF shape ints, then the same body as format 3; made here from
     * format 3's golden LIF state.
     */
    @Test
    void lifSnapshotsOfFormatTwoStillRestore() throws IOException {
        final LearnerConfig config = LearnerStateGoldenTest.small("lif", "adam").adaptation(0.2f).build();
        final byte[] v3 = LearnerStateGoldenTest.golden("learner-state-v3-lif-adaptive-adam.bin");
        final ByteBuffer in = ByteBuffer.wrap(v3);
        final int magic = in.getInt();
        assertThat(in.getInt()).isEqualTo(3);
        final int nameLength = in.getShort();
        in.position(in.position() + nameLength);
        final ByteArrayOutputStream v2 = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(v2)) {
            out.writeInt(magic);
            out.writeInt(2);
            out.write(v3, in.position(), v3.length - in.position());
        }
        try (Learner a = Learners.create(config); Learner b = Learners.create(config.toBuilder().seed(77L).build());
             Learner egru = Learners.create(config("egru").build())) {
            restore(a, v3);
            restore(b, v2.toByteArray());
            assertThat(state(b)).isEqualTo(state(a));
            final List<SequenceChunk> batch = List.of(new SequenceChunk("a", List.of(SparseEvent.ofType(1),
                    SparseEvent.ofType(2), SparseEvent.ofType(3))));
            assertThat(b.train(batch).lossSum()).isEqualTo(a.train(batch).lossSum());
            assertThatThrownBy(() -> restore(egru, v2.toByteArray())).isInstanceOf(IOException.class)
                    .hasMessageContaining("'lif' learner");
        }
    }

    @Test
    void gradientClippingBoundsTheUpdateAndIsCounted() {
        try (SpikingLearner clipped = (SpikingLearner) Learners.create(config("egru").optimizer("sgd")
                .learningRate(1f).gradientClip(1e-3f).build());
             SpikingLearner free = (SpikingLearner) Learners.create(config("egru").optimizer("sgd")
                     .learningRate(1f).gradientClip(0f).build())) {
            final List<SequenceChunk> batch = motif(1, 4, 12, 2L).getFirst();
            final float[] before = clipped.parameters().values().stream().findFirst().orElseThrow().clone();
            clipped.train(batch);
            free.train(batch);
            assertThat(clipped.clippedSteps()).isEqualTo(1);
            assertThat(free.clippedSteps()).isZero();
            double moved = 0;
            for (final var e : clipped.parameters().entrySet()) {
                final float[] now = e.getValue();
                final float[] was = e.getKey().equals("layer0.w_in") ? before : null;
                if (was != null) {
                    for (int i = 0; i < now.length; i++) {
                        moved += (now[i] - was[i]) * (double) (now[i] - was[i]);
                    }
                }
            }
            assertThat(Math.sqrt(moved)).isLessThanOrEqualTo(1.0001e-3).isPositive();
        }
    }

    @Test
    void unknownCellIsRefusedWithTheChoices() {
        assertThatThrownBy(() -> config("lstm").build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lif").hasMessageContaining("egru");
    }
}
