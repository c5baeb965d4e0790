package io.spillway.engine.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The readout gradient's block product: sgemm when large, the loop when small, both the same sum. */
class CpuBackendBlockProductTest {

    private static float[] random(final SplittableRandom rnd, final int size) {
        final float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        return x;
    }

    /** {@code g + a^T x} in doubles: the independent reference. */
    private static double[] reference(final float[] g, final int rows, final int cols, final float[] a,
                                      final float[] x, final int batch) {
        final double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double s = g[r * cols + c];
                for (int b = 0; b < batch; b++) {
                    s += (double) a[b * rows + r] * x[b * cols + c];
                }
                out[r * cols + c] = s;
            }
        }
        return out;
    }

    @Test
    void largeBlocksGoToSgemmAndMatchTheReferenceAndThemselves() {
        final int rows = 97;
        final int cols = 128;
        final int batch = 1024; // 12.7M multiply-adds: far above the BLAS threshold
        final SplittableRandom rnd = new SplittableRandom(7);
        final float[] a = random(rnd, batch * rows);
        final float[] x = random(rnd, batch * cols);
        final float[] g0 = random(rnd, rows * cols);
        final double[] want = reference(g0, rows, cols, a, x, batch);
        try (CpuBackend blas = new CpuBackend(); CpuBackend loops = new CpuBackend(Long.MAX_VALUE)) {
            final float[] viaBlas = g0.clone();
            blas.accumulateOuterBlock(viaBlas, 0, rows, cols, a, x, batch);
            final float[] again = g0.clone();
            blas.accumulateOuterBlock(again, 0, rows, cols, a, x, batch);
            final float[] viaLoop = g0.clone();
            loops.accumulateOuterBlock(viaLoop, 0, rows, cols, a, x, batch);
            final float[] plain = g0.clone();
            loops.accumulateOuter(plain, 0, rows, cols, a, x, batch);
            assertThat(again).containsExactly(viaBlas); // deterministic
            assertThat(viaLoop).containsExactly(plain); // below the threshold: the documented loop, same bits
            for (int i = 0; i < rows * cols; i++) {
                // sums of 1024 products of magnitude <= 1: fp32 rounding stays far below 1e-3
                assertThat((double) viaBlas[i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-3));
                assertThat((double) viaLoop[i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-3));
            }
        }
    }

    @Test
    void blocksAddAtAnOffsetAndLeaveTheRestAlone() {
        final int rows = 64;
        final int cols = 64;
        final int batch = 64; // 262k multiply-adds: BLAS
        final SplittableRandom rnd = new SplittableRandom(11);
        final float[] a = random(rnd, batch * rows);
        final float[] x = random(rnd, batch * cols);
        final float[] g = new float[5 + rows * cols + 3];
        java.util.Arrays.fill(g, 2f);
        try (CpuBackend blas = new CpuBackend()) {
            blas.accumulateOuterBlock(g, 5, rows, cols, a, x, batch);
        }
        final float[] base = new float[rows * cols];
        java.util.Arrays.fill(base, 2f);
        final double[] want = reference(base, rows, cols, a, x, batch);
        for (int i = 0; i < 5; i++) {
            assertThat(g[i]).isEqualTo(2f);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(g[5 + rows * cols + i]).isEqualTo(2f);
        }
        for (int i = 0; i < rows * cols; i++) {
            assertThat((double) g[5 + i]).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-4));
        }
    }
}
