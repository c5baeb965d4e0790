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
 *
 * <p>The rows are scratch of the calling thread, reused from call to call: allocated per call they were nearly half
 * of a training step's garbage (about 350 MB a second at hidden 128), and so of its collections. Per thread, since
 * the forward and backward passes may run on two threads against one backend.
 */
final class RowKernels {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private RowKernels() {
    }

    /** One thread's rows; each is at least as long as asked, and only its first {@code cols} entries are used. */
    private static final class Scratch {
        private float[] first = new float[0];
        private float[] second = new float[0];
        /** Per element, its row; {@code present[e] == epoch} when the current call filled it. */
        private float[][] rows = new float[0][];
        private int[] present = new int[0];
        private int epoch;
        /** The current call's row length. */
        private int cols;

        float[] first(final int cols) {
            if (first.length < cols) {
                first = new float[cols];
            }
            return first;
        }

        float[] second(final int cols) {
            if (second.length < cols) {
                second = new float[cols];
            }
            return second;
        }

        /** Starts a call's element rows for elements below {@code elements}: none present. */
        void elements(final int elements, final int cols) {
            if (rows.length < elements) {
                rows = java.util.Arrays.copyOf(rows, elements);
                present = java.util.Arrays.copyOf(present, elements);
            }
            if (++epoch == 0) { // wrapped: forget every mark
                java.util.Arrays.fill(present, 0);
                epoch = 1;
            }
            this.cols = cols;
        }

        /** Element e's row, filled with {@code a[e * stride ..]} the first time a call asks for it. */
        float[] row(final int e, final float[] a, final int stride) {
            if (present[e] != epoch) {
                if (rows[e] == null || rows[e].length < cols) {
                    rows[e] = new float[cols];
                }
                System.arraycopy(a, e * stride, rows[e], 0, cols);
                present[e] = epoch;
            }
            return rows[e];
        }

        boolean has(final int e) {
            return present[e] == epoch;
        }
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
        final Scratch scratch = SCRATCH.get();
        final float[] acc = scratch.first(cols);
        final float[] row = scratch.second(cols);
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
        final Scratch scratch = SCRATCH.get();
        final float[] source = scratch.first(cols);
        final float[] acc = scratch.second(cols);
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
        final Scratch scratch = SCRATCH.get();
        final int elements = elementRows(scratch, uses, out, outStride, cols);
        final float[][] acc = scratch.rows;
        final float[] row = scratch.first(cols);
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
        for (int e = 0; e < elements; e++) {
            if (scratch.has(e)) {
                System.arraycopy(acc[e], 0, out, e * outStride, cols);
            }
        }
    }

    /** See {@code ArrayBackend.scatterShared}: each source row copied once, each gradient row read and written once. */
    static void scatterShared(final float[] g, final int gOffset, final int cols, final SharedRows uses,
                              final float[] src, final int srcStride) {
        final Scratch scratch = SCRATCH.get();
        elementRows(scratch, uses, src, srcStride, cols);
        final float[][] source = scratch.rows;
        final float[] acc = scratch.first(cols);
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

    /**
     * Into the scratch's rows, a copy of row {@code e} of {@code a} (at {@code e * stride}) for each element e of the
     * uses; returns the number of elements (the largest used, plus one).
     */
    private static int elementRows(final Scratch scratch, final SharedRows uses, final float[] a, final int stride,
                                   final int cols) {
        int elements = 0;
        for (int u = 0; u < uses.size(); u++) {
            elements = Math.max(elements, uses.element(u) + 1);
        }
        scratch.elements(elements, cols);
        for (int u = 0; u < uses.size(); u++) {
            scratch.row(uses.element(u), a, stride);
        }
        return elements;
    }
}
