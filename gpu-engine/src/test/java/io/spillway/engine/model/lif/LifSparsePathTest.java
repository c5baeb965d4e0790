package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.cpu.CpuBackend;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The event-driven step against a dense step of the same equations; spike overflow; BLAS path. */
class LifSparsePathTest {

    @Test
    void sparseStepEqualsDenseStep() {
        final LifSettings s = new LifSettings(6, 5, 16, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 0.2f);
        final WindowFixture fx = new WindowFixture(s, new int[] {1, 1}, 5L, 1.5f);
        try (CpuBackend backend = new CpuBackend()) {
            final LifState next = fx.window(backend, new float[fx.params.size()]).step(fx.initial, 0, true);
            final float[] w = fx.params.values();
            final int n = s.hiddenSize();
            for (int b = 0; b < 2; b++) {
                // dense input vector and dense spike vectors, full matrix-vector products
                final float[] x = new float[s.inputDimension()];
                for (int k = 0; k < fx.rows[b].length; k++) {
                    x[fx.rows[b][k]] += fx.scales[b][k];
                }
                float[] below = x;
                for (int l = 0; l < s.layers(); l++) {
                    final float[] prevSpikes = dense(fx.initial.spikeIds(l, b), n);
                    final float[] spikesNow = new float[n];
                    for (int i = 0; i < n; i++) {
                        double a = w[fx.params.bias(l) + i];
                        for (int j = 0; j < below.length; j++) {
                            a += below[j] * w[fx.params.wIn(l) + j * n + i];
                        }
                        for (int j = 0; j < n; j++) {
                            a += prevSpikes[j] * w[fx.params.wRec(l) + j * n + i];
                        }
                        final double v = s.alpha() * fx.initial.potential(l, b, i) * (1 - prevSpikes[i])
                                + s.drive() * a;
                        assertThat((double) next.potential(l, b, i)).isCloseTo(v, Offset.offset(1e-5 * (1 + Math.abs(v))));
                        spikesNow[i] = v > s.theta() ? 1f : 0f;
                    }
                    assertThat(dense(next.spikeIds(l, b), n)).containsExactly(spikesNow);
                    below = spikesNow;
                }
            }
        }
    }

    private static float[] dense(final int[] ids, final int n) {
        final float[] d = new float[n];
        for (final int i : ids) {
            d[i] = 1f;
        }
        return d;
    }

    @Test
    void spikeOverflowGrowsTheBufferAndDropsNothing() {
        final LifSettings tight = new LifSettings(4, 0, 32, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 1f / 32);
        final LifSettings roomy = new LifSettings(4, 0, 32, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 1f);
        final WindowFixture a = new WindowFixture(tight, new int[] {8, 8}, 9L, 3f);
        final WindowFixture b = new WindowFixture(roomy, new int[] {8, 8}, 9L, 3f);
        try (CpuBackend backend = new CpuBackend()) {
            final float[] ga = new float[a.params.size()];
            final float[] gb = new float[b.params.size()];
            final LifWindow wa = a.window(backend, ga);
            final LifWindow wb = b.window(backend, gb);
            final List<LifState> sa = WindowFixture.bptt(wa, a.initial, 8);
            final List<LifState> sb = WindowFixture.bptt(wb, b.initial, 8);
            assertThat(wa.spikeOverflows()).isPositive();
            assertThat(wb.spikeOverflows()).isZero();
            int max = 0;
            for (int t = 0; t < 8; t++) {
                assertThat(sa.get(t).sameAs(sb.get(t))).as("step %d", t).isTrue();
                for (int l = 0; l < 2; l++) {
                    max = Math.max(max, sa.get(t).spikeIds(l, 0).length);
                }
            }
            assertThat(max).isGreaterThan(1); // more than the planned capacity of one id
            assertThat(ga).containsExactly(gb);
        }
    }

    @Test
    void blasPathAgreesWithJavaLoopsAndIsDeterministic() {
        final LifSettings s = new LifSettings(8, 0, 64, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 0.2f);
        final WindowFixture fx = new WindowFixture(s, new int[] {5, 5, 4, 5}, 21L, 1.5f);
        final float[] java = run(fx, new CpuBackend(Long.MAX_VALUE));
        final float[] blas1 = run(fx, new CpuBackend(0));
        final float[] blas2 = run(fx, new CpuBackend(0));
        assertThat(blas1).containsExactly(blas2);
        double maxAbs = 0;
        for (final float g : java) {
            maxAbs = Math.max(maxAbs, Math.abs(g));
        }
        for (int i = 0; i < java.length; i++) {
            assertThat(blas1[i]).isCloseTo(java[i], Offset.offset((float) (1e-5 * maxAbs)));
        }
        assertThat(Arrays.equals(java, new float[java.length])).isFalse();
    }

    private static float[] run(final WindowFixture fx, final CpuBackend backend) {
        try (backend) {
            final float[] g = new float[fx.params.size()];
            WindowFixture.bptt(fx.window(backend, g), fx.initial, fx.inputs().steps());
            return g;
        }
    }
}
