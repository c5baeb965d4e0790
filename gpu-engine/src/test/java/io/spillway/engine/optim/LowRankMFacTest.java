package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LowRankMFacTest {
    private static float[] random(final SplittableRandom r, final int d) {
        final float[] g = new float[d];
        for (int j = 0; j < d; j++) {
            g[j] = (float) r.nextGaussian();
        }
        return g;
    }

    /** With rank = rows, one power-iteration step reproduces the matrix: low-rank M-FAC is dense M-FAC. */
    @Test
    void fullRankEqualsDenseMFac() {
        final List<int[]> shapes = List.of(new int[] {4, 6}, new int[] {5, 1});
        final LowRankMFac lowRank = new LowRankMFac(0.05f, 4, 0.1, 4, shapes, 3);
        final MFac dense = new MFac(MFacSettings.dense(0.05f, 4, 0.1), null);
        lowRank.initialise(29);
        dense.initialise(29);
        final float[] p1 = new float[29];
        final float[] p2 = new float[29];
        final SplittableRandom r = new SplittableRandom(1);
        for (int t = 0; t < 10; t++) {
            final float[] g = random(r, 29);
            lowRank.step(p1, g.clone());
            dense.step(p2, g.clone());
            for (final double e : lowRank.errorBuffer()) {
                assertThat(Math.abs(e)).isLessThan(1e-9);
            }
            for (int i = 0; i < 29; i++) {
                assertThat((double) p1[i]).isCloseTo(p2[i], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void errorFeedbackKeepsWhatRankOneDrops() {
        final List<int[]> shapes = List.of(new int[] {8, 10});
        final LowRankMFac opt = new LowRankMFac(0.01f, 4, 0.1, 1, shapes, 4);
        opt.initialise(80);
        final SplittableRandom r = new SplittableRandom(2);
        final double[] sumG = new double[80];
        for (int t = 0; t < 20; t++) {
            final float[] g = random(r, 80);
            for (int i = 0; i < 80; i++) {
                sumG[i] += g[i];
            }
            opt.step(new float[80], g);
        }
        // Rank 1 of an 8 x 10 accumulation leaves most of it in e; e is bounded by the accumulated sum.
        double e2 = 0;
        double s2 = 0;
        for (int i = 0; i < 80; i++) {
            e2 += opt.errorBuffer()[i] * opt.errorBuffer()[i];
            s2 += sumG[i] * sumG[i];
        }
        assertThat(e2).isPositive().isLessThan(s2);
        assertThat(opt.stateBytes()).isEqualTo(4L * (8 + 10) * 8 + 80L * 8 + 2L * 4 * 4 * 8);
    }

    @Test
    void restoresBitwise() throws Exception {
        final List<int[]> shapes = List.of(new int[] {6, 5}, new int[] {3, 1});
        final LowRankMFac a = new LowRankMFac(0.02f, 3, 0.1, 2, shapes, 5);
        a.initialise(33);
        final float[] pa = new float[33];
        final SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 7; t++) {
            a.step(pa, random(r, 33));
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.writeState(new DataOutputStream(bytes));
        final LowRankMFac b = new LowRankMFac(0.02f, 3, 0.1, 2, shapes, 99);
        b.initialise(33);
        b.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        final float[] pb = pa.clone();
        for (int t = 0; t < 20; t++) {
            final float[] g = random(r, 33);
            a.step(pa, g.clone());
            b.step(pb, g.clone());
            assertThat(pb).containsExactly(pa);
        }
    }

    @Test
    void theLearnerTrainsWithLowRankMFac() {
        final LearnerConfig cfg = LearnerConfig.builder().cell("lif").vocabularySize(6).featureDimension(0).hiddenSize(24)
                .optimizer("mfac-lowrank:rank=2,m=8").backend("cpu").seed(2).build();
        try (Learner learner = Learners.create(cfg)) {
            assertThat(learner.describe()).contains("mfac-lowrank");
            final SplittableRandom r = new SplittableRandom(4);
            double last = 0;
            int targets = 0;
            final int[] cur = new int[4];
            for (int s = 0; s < 40; s++) {
                final List<io.spillway.engine.SequenceChunk> batch = new java.util.ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    final List<io.spillway.engine.SparseEvent> ev = new java.util.ArrayList<>();
                    for (int i = 0; i < 12; i++) {
                        cur[k] = r.nextInt(10) == 0 ? r.nextInt(6) : (cur[k] + 1) % 6;
                        ev.add(io.spillway.engine.SparseEvent.ofType(cur[k]));
                    }
                    batch.add(new io.spillway.engine.SequenceChunk("k" + k, ev));
                }
                final io.spillway.engine.TrainingStep step = learner.train(batch);
                if (s >= 30) {
                    last += step.lossSum();
                    targets += step.targets();
                }
            }
            assertThat(last / targets).isLessThan(0.8 * Math.log(6));
        }
    }
}
