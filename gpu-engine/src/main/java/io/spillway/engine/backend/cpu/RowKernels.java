package io.spillway.engine.backend.cpu;

import io.spillway.engine.backend.SharedRows;

/**
 * The sparse row operations of {@link CpuBackend} (a scaled weight row added into an output row, and its
 * gradient) in a form HotSpot vectorises. {@code out[o + c] += s * w[r + c]} over two float arrays at different
 * offsets is not vectorised (HotSpot cannot rule out that the arrays are one, with overlapping ranges), so it ran
 * at about one multiply-add per cycle; the same loop over two rows that both start at index 0 is (any overlap would
 * then be the same element, which is safe). So each row is copied into a row of its own first (a memory copy, much
 * cheaper than the scalar loop) and copied back after. Every output entry still adds the same terms in the same
 * order, so the results are bitwise those of the plain loops ({@code ArrayBackend}'s defaults).
 */
final class RowKernels {
    private RowKernels() {
    }

    /** {@code acc[c] += s * row[c]}: both at offset 0, so it vectorises. */
    private static void addScaled(final float[] row, final float s, final float[] acc, final int cols) {
        for (int c = 0; c < cols; c++) {
            acc[c] += s * row[c];
        }
    }

    /** {@code acc[c] += row[c]}. */
    private static void add(final float[] row, final float[] acc, final int cols) {
        for (int c = 0; c < cols; c++) {
            acc[c] += row[c];
        }
    }

    /** {@code out[outOffset ..] += sum_i scales[i] w[wOffset + rows[i] cols ..]}, i from {@code from} to {@code to}. */
    static void gatherRows(final float[] w, final int wOffset, final int cols, final int[] rows, final float[] scales,
                           final int from, final int to, final float[] out, final int outOffset) {
        if (from >= to) {
            return;
        }
        final float[] acc = new float[cols];
        final float[] row = new float[cols];
        System.arraycopy(out, outOffset, acc, 0, cols);
        for (int i = from; i < to; i++) {
            System.arraycopy(w, wOffset + rows[i] * cols, row, 0, cols);
            if (scales == null) {
                add(row, acc, cols);
            } else {
                addScaled(row, scales[i], acc, cols);
            }
        }
        System.arraycopy(acc, 0, out, outOffset, cols);
    }

    /** {@code g[gOffset + rows[i] cols ..] += scales[i] src[srcOffset ..]}, i from {@code from} to {@code to}. */
    static void scatterAddRows(final float[] g, final int gOffset, final int cols, final int[] rows,
                               final float[] scales, final int from, final int to, final float[] src,
                               final int srcOffset) {
        if (from >= to) {
            return;
        }
        final float[] source = new float[cols];
        final float[] acc = new float[cols];
        System.arraycopy(src, srcOffset, source, 0, cols);
        for (int i = from; i < to; i++) {
            final int at = gOffset + rows[i] * cols;
            System.arraycopy(g, at, acc, 0, cols);
            if (scales == null) {
                add(source, acc, cols);
            } else {
                addScaled(source, scales[i], acc, cols);
            }
            System.arraycopy(acc, 0, g, at, cols);
        }
    }

    /**
     * See {@code ArrayBackend.gatherShared}: each output row in an accumulator of its own, each weight row
     * read once.
     */
    static void gatherShared(final float[] w, final int wOffset, final int cols, final SharedRows uses,
                             final float[] out, final int outStride) {
        final float[][] acc = elementRows(uses, out, outStride, cols);
        final float[] row = new float[cols];
        for (int r = 0; r < uses.rows(); r++) {
            final int end = uses.from(r + 1);
            if (uses.from(r) == end) {
                continue;
            }
            System.arraycopy(w, wOffset + r * cols, row, 0, cols);
            for (int u = uses.from(r); u < end; u++) {
                addScaled(row, uses.scale(u), acc[uses.element(u)], cols);
            }
        }
        for (int e = 0; e < acc.length; e++) {
            if (acc[e] != null) {
                System.arraycopy(acc[e], 0, out, e * outStride, cols);
            }
        }
    }

    /** See {@code ArrayBackend.scatterShared}: each source row copied once, each gradient row read and written once. */
    static void scatterShared(final float[] g, final int gOffset, final int cols, final SharedRows uses,
                              final float[] src, final int srcStride) {
        final float[][] source = elementRows(uses, src, srcStride, cols);
        final float[] acc = new float[cols];
        for (int r = 0; r < uses.rows(); r++) {
            final int end = uses.from(r + 1);
            if (uses.from(r) == end) {
                continue;
            }
            final int at = gOffset + r * cols;
            System.arraycopy(g, at, acc, 0, cols);
            for (int u = uses.from(r); u < end; u++) {
                addScaled(source[uses.element(u)], uses.scale(u), acc, cols);
            }
            System.arraycopy(acc, 0, g, at, cols);
        }
    }

    /** A copy of row {@code e} of {@code a} (at {@code e * stride}) for each element e of the uses, else null. */
    private static float[][] elementRows(final SharedRows uses, final float[] a, final int stride, final int cols) {
        int elements = 0;
        for (int u = 0; u < uses.size(); u++) {
            elements = Math.max(elements, uses.element(u) + 1);
        }
        final float[][] rows = new float[elements][];
        for (int u = 0; u < uses.size(); u++) {
            final int e = uses.element(u);
            if (rows[e] == null) {
                rows[e] = new float[cols];
                System.arraycopy(a, e * stride, rows[e], 0, cols);
            }
        }
        return rows;
    }
}
