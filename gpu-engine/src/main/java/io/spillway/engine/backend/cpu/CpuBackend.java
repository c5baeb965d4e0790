package io.spillway.engine.backend.cpu;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.backend.SharedRows;
import java.util.Arrays;
import java.util.Objects;

/**
 * The CPU reference backend. Sparse row gathers and scatters are plain Java loops (for the few rows a sparse
 * step touches, a native call costs more than the work). Dense products run through {@link DenseKernels}: plain Java below a size threshold, ND4J/OpenBLAS above it.
 *
 * <p>Determinism: every loop sums in a fixed order and the Java/ND4J choice depends only on the shapes,
 * so equal inputs give bitwise-equal outputs run to run. Threading: stateless apart from matrix handles;
 * confine to one thread anyway (the learner does).
 */
public final class CpuBackend implements ArrayBackend {
    private final DenseKernels dense;

    public CpuBackend() {
        this(DenseKernels.DEFAULT_BLAS_THRESHOLD);
    }

    /** @param blasThreshold smallest multiply-add count sent to BLAS; {@code Long.MAX_VALUE}: Java only */
    public CpuBackend(final long blasThreshold) {
        this.dense = new DenseKernels(blasThreshold);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String deviceDescription() {
        return "cpu(" + Runtime.getRuntime().availableProcessors() + " cores, " + dense.describe() + ")";
    }

    @Override
    public DenseMatrix upload(final float[] data, final int offset, final int rows, final int cols) {
        Objects.checkFromIndexSize(offset, Math.multiplyExact(rows, cols), data.length);
        return new CpuMatrix(Arrays.copyOfRange(data, offset, offset + rows * cols), rows, cols);
    }

    private static CpuMatrix own(final DenseMatrix m) {
        if (!(m instanceof CpuMatrix c)) {
            throw new IllegalArgumentException("matrix was not made by the cpu backend: " + m);
        }
        c.checkOpen();
        return c;
    }

    @Override
    public void multiplyTransposed(final DenseMatrix m, final float[] x, final int batch, final float[] y,
                                   final boolean accumulate) {
        final CpuMatrix a = own(m);
        dense.multiplyTransposed(a, x, batch, y, accumulate);
    }

    @Override
    public void multiply(final DenseMatrix m, final float[] x, final int batch, final float[] y,
                         final boolean accumulate) {
        final CpuMatrix a = own(m);
        dense.multiply(a, x, batch, y, accumulate);
    }

    @Override
    public void accumulateOuter(final float[] g, final int gOffset, final int rows, final int cols, final float[] a,
                                final float[] x, final int batch) {
        // row by row of g, so that each row stays in the L1 cache while every element adds into it; each entry
        // still sums over b in ascending order, the same bits as the batch-outer order
        for (int r = 0; r < rows; r++) {
            final int gRow = gOffset + r * cols;
            for (int b = 0; b < batch; b++) {
                final float s = a[b * rows + r];
                if (s != 0f) {
                    final int xRow = b * cols;
                    for (int c = 0; c < cols; c++) {
                        g[gRow + c] += s * x[xRow + c];
                    }
                }
            }
        }
    }

    /**
     * Single-threaded OpenBLAS sgemm against the Java loop's dot products (four scalar partial sums): measured
     * about 8x per multiply-add on the benchmark machine's AVX2 cores, once the product is past the BLAS threshold.
     */
    @Override
    public int denseSpeedup(final int batch, final int rows, final int cols) {
        return dense.usesBlas((long) batch * rows * cols) ? 8 : 1;
    }

    @Override
    public void accumulateOuterBlock(final float[] g, final int gOffset, final int rows, final int cols,
                                     final float[] a, final float[] x, final int batch) {
        if (!dense.accumulateTransposedProduct(g, gOffset, rows, cols, a, x, batch)) {
            accumulateOuter(g, gOffset, rows, cols, a, x, batch);
        }
    }

    @Override
    public void gatherRows(final float[] w, final int wOffset, final int cols, final int[] rows, final float[] scales,
                           final int from, final int to, final float[] out, final int outOffset) {
        RowKernels.gatherRows(w, wOffset, cols, rows, scales, from, to, out, outOffset);
    }

    @Override
    public void scatterAddRows(final float[] g, final int gOffset, final int cols, final int[] rows,
                               final float[] scales, final int from, final int to, final float[] src,
                               final int srcOffset) {
        RowKernels.scatterAddRows(g, gOffset, cols, rows, scales, from, to, src, srcOffset);
    }

    @Override
    public void gatherShared(final float[] w, final int wOffset, final int cols, final SharedRows uses,
                             final float[] out, final int outStride) {
        RowKernels.gatherShared(w, wOffset, cols, uses, out, outStride);
    }

    @Override
    public void scatterShared(final float[] g, final int gOffset, final int cols, final SharedRows uses,
                              final float[] src, final int srcStride) {
        RowKernels.scatterShared(g, gOffset, cols, uses, src, srcStride);
    }

    @Override
    public void dotRows(final float[] w, final int wOffset, final int cols, final int[] rows, final int count,
                        final float[] x, final int xOffset, final float[] out, final int outOffset) {
        for (int k = 0; k < count; k++) {
            out[outOffset + rows[k]] = DenseKernels.dot(w, wOffset + rows[k] * cols, x, xOffset, cols);
        }
    }

    @Override
    public void close() {
        dense.close();
    }
}
