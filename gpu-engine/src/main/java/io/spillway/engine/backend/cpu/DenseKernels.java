package io.spillway.engine.backend.cpu;

import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dense products for {@link CpuBackend}: plain Java loops for small shapes (a native call and the copies
 * around it cost more than the arithmetic), ND4J/OpenBLAS sgemm above {@code blasThreshold} multiply-adds.
 * ND4J is touched only through {@link Nd4jGemm}, loaded on first use, so the engine still runs if the ND4J
 * jars or native libraries are missing (it then logs why and stays on Java loops).
 */
final class DenseKernels implements AutoCloseable {
    /**
     * Multiply-adds per call from which single-threaded sgemm beats the Java loop. Measured on a 2-core AVX-512
     * Xeon: 3-4x faster for one 16 x 256 x 256 product, 7x at 16 x 512 x 512; end to end the learner trains
     * 1.2-1.4x faster at hidden 128 (16 x 128 x 128 = 256K) and 1.5-1.9x at hidden 256 (see
     * bench/results/engine-learner-throughput.json). Smaller shapes (the readout) stay on Java loops.
     */
    static final long DEFAULT_BLAS_THRESHOLD = 1L << 17;
    private static final Logger LOG = LoggerFactory.getLogger(DenseKernels.class);

    private final long blasThreshold;
    private boolean blasUsable;
    private boolean blasReady;

    DenseKernels(final long blasThreshold) {
        this.blasThreshold = blasThreshold;
        this.blasUsable = blasThreshold != Long.MAX_VALUE;
    }

    String describe() {
        return blasUsable ? "java loops, 1-thread openblas sgemm from " + blasThreshold + " madds" : "java loops";
    }

    private boolean useBlas(final long madds) {
        if (!blasUsable || madds < blasThreshold) {
            return false;
        }
        try {
            if (!blasReady) {
                Nd4jGemm.initialise();
                blasReady = true;
                LOG.info("CPU backend: dense products of {}+ multiply-adds on single-threaded OpenBLAS", blasThreshold);
            }
            return true;
        } catch (final LinkageError | RuntimeException e) { // ND4J or its natives missing: stay on Java loops
            LOG.warn("ND4J/OpenBLAS unavailable, dense products stay on Java loops: {}", e.toString());
            blasUsable = false;
            return false;
        }
    }

    /** Whether a product of {@code madds} multiply-adds goes to BLAS (loading it on first use). */
    boolean usesBlas(final long madds) {
        return useBlas(madds);
    }

    /** y[b, r] (+)= sum_c x[b, c] m[r, c]. */
    void multiplyTransposed(final CpuMatrix m, final float[] x, final int batch, final float[] y,
                            final boolean accumulate) {
        final int rows = m.rows();
        final int cols = m.cols();
        if (useBlas((long) batch * rows * cols)) {
            store(Nd4jGemm.timesTransposed(m, x, batch), y, batch * rows, accumulate);
            return;
        }
        final float[] w = m.data;
        for (int b = 0; b < batch; b++) {
            final int xo = b * cols;
            final int yo = b * rows;
            for (int r = 0; r < rows; r++) {
                final float d = dot(w, r * cols, x, xo, cols);
                y[yo + r] = accumulate ? y[yo + r] + d : d;
            }
        }
    }

    /** y[b, c] (+)= sum_r x[b, r] m[r, c]. */
    void multiply(final CpuMatrix m, final float[] x, final int batch, final float[] y, final boolean accumulate) {
        final int rows = m.rows();
        final int cols = m.cols();
        if (useBlas((long) batch * rows * cols)) {
            store(Nd4jGemm.times(m, x, batch), y, batch * cols, accumulate);
            return;
        }
        final float[] w = m.data;
        if (!accumulate) {
            Arrays.fill(y, 0, batch * cols, 0f);
        }
        for (int b = 0; b < batch; b++) {
            final int yo = b * cols;
            for (int r = 0; r < rows; r++) {
                final float s = x[b * rows + r];
                if (s != 0f) {
                    final int wo = r * cols;
                    for (int c = 0; c < cols; c++) {
                        y[yo + c] += s * w[wo + c];
                    }
                }
            }
        }
    }

    /**
     * {@code g[gOffset + r * cols + c] += sum_b a[b, r] x[b, c]} as one sgemm when the product is large enough;
     * returns false (and leaves {@code g} alone) when it is not, for the caller's loop.
     */
    boolean accumulateTransposedProduct(final float[] g, final int gOffset, final int rows, final int cols,
                                        final float[] a, final float[] x, final int batch) {
        if (!useBlas((long) batch * rows * cols)) {
            return false;
        }
        final float[] product = Nd4jGemm.transposedTimes(a, x, batch, rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            g[gOffset + i] += product[i];
        }
        return true;
    }

    private static void store(final float[] r, final float[] y, final int len, final boolean accumulate) {
        if (accumulate) {
            for (int i = 0; i < len; i++) {
                y[i] += r[i];
            }
        } else {
            System.arraycopy(r, 0, y, 0, len);
        }
    }

    /** Dot product with four partial sums combined in a fixed order (deterministic, vectorizable). */
    static float dot(final float[] a, final int ao, final float[] b, final int bo, final int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void close() {
        // matrix views are released with their CpuMatrix; nothing global to free
    }
}
