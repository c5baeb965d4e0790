package io.spillway.engine.backend;

/**
 * A {@link Backend} that computes on Java heap arrays: the few operations every recurrent cell's window needs
 * (dense products for the readout and the adjoints, row gathers and scatter-adds for sparse inputs and spikes).
 * What only one cell needs stays with that cell (the LIF update and its surrogate: {@code model.lif.LifKernels}).
 * Implementations are found by {@link Backends} through a {@link BackendProvider}.
 *
 * <p>Layout: every matrix is row-major; a "batch" argument {@code x} of {@code batch} rows of width
 * {@code k} holds row {@code b} at {@code x[b * k .. b * k + k)}. Sparse operations address whole rows of a
 * weight matrix (a row is the fan-out of one input or neuron), which is what makes event-driven
 * forward and backward passes cheap.
 *
 * <p>Determinism: every operation sums in a fixed order, so equal inputs give bitwise-equal outputs from run
 * to run. Threading: the learner calls everything from its trainer thread, and the forward operations
 * ({@link #gatherRows}) also from the checkpoint executor's recompute thread at the
 * same time, so those must not share mutable state. Ownership: the backend owns the resources of the
 * {@link DenseMatrix} handles it makes.
 */
public interface ArrayBackend extends Backend {

    /**
     * Copies {@code rows x cols} values starting at {@code data[offset]} into a read-only matrix the dense
     * operations can use (on a GPU: a device upload). Later changes to {@code data} are not seen.
     */
    DenseMatrix upload(float[] data, int offset, int rows, int cols);

    /**
     * {@code y[b, r] (+)= sum_c x[b, c] * m[r, c]} for {@code b < batch}: each batch row times the transpose
     * of {@code m}, e.g. logits from membranes with a {@code [classes][neurons]} readout matrix.
     *
     * @param x {@code batch x m.cols()}
     * @param y {@code batch x m.rows()}; overwritten, or added to when {@code accumulate}
     */
    void multiplyTransposed(DenseMatrix m, float[] x, int batch, float[] y, boolean accumulate);

    /**
     * {@code y[b, c] (+)= sum_r x[b, r] * m[r, c]} for {@code b < batch}: each batch row times {@code m}.
     *
     * @param x {@code batch x m.rows()}
     * @param y {@code batch x m.cols()}; overwritten, or added to when {@code accumulate}
     */
    void multiply(DenseMatrix m, float[] x, int batch, float[] y, boolean accumulate);

    /**
     * {@code g[gOffset + r * cols + c] += sum_b a[b, r] * x[b, c]}, summed over {@code b} in increasing order:
     * the weight gradient of a dense layer.
     */
    void accumulateOuter(float[] g, int gOffset, int rows, int cols, float[] a, float[] x, int batch);

    /**
     * {@link #accumulateOuter} over many batch rows at once (a whole window's readout gradient): the same sum, in
     * an order fixed by the shapes but not necessarily increasing {@code b}, so that a backend may hand it to one
     * dense product. Equal inputs still give bitwise-equal outputs.
     */
    default void accumulateOuterBlock(final float[] g, final int gOffset, final int rows, final int cols,
                                      final float[] a, final float[] x, final int batch) {
        accumulateOuter(g, gOffset, rows, cols, a, x, batch);
    }

    /**
     * {@code out[outOffset .. outOffset + cols) += sum_i scale_i * w[wOffset + rows[i] * cols ..]} for
     * {@code i in [from, to)}, in increasing {@code i}: the input current of a sparse input or spike list.
     *
     * @param scales per-row factors, or null for 1
     */
    void gatherRows(float[] w, int wOffset, int cols, int[] rows, float[] scales, int from, int to,
                    float[] out, int outOffset);

    /**
     * {@code g[gOffset + rows[i] * cols ..] += scale_i * src[srcOffset .. srcOffset + cols)} for
     * {@code i in [from, to)}: the gradient of {@link #gatherRows}, touching only the listed rows.
     *
     * @param scales per-row factors, or null for 1
     */
    void scatterAddRows(float[] g, int gOffset, int cols, int[] rows, float[] scales, int from, int to,
                        float[] src, int srcOffset);

    /**
     * {@code out[outOffset + rows[k]] = sum_c w[wOffset + rows[k] * cols + c] * x[xOffset + c]} for
     * {@code k < count}; other entries of {@code out} are left alone. The sparse form of
     * {@link #multiplyTransposed} for one batch row: the spike adjoint of only the neurons whose surrogate is
     * non-zero.
     */
    void dotRows(float[] w, int wOffset, int cols, int[] rows, int count, float[] x, int xOffset, float[] out,
                 int outOffset);

    /**
     * How many times faster, per multiply-add, this backend runs a dense {@link #multiplyTransposed} of this shape
     * than the same rows one by one ({@link #dotRows}); a cell forms a sparse product densely when it needs more
     * than about this fraction of the rows. Depends on the shape only, so the choice is the same on every pass.
     */
    default int denseSpeedup(final int batch, final int rows, final int cols) {
        return 1;
    }

    /**
     * {@code out[e * outStride + c] += scale * w[wOffset + r * cols + c]} for every use {@code (r, e, scale)} of
     * {@code uses}, row by row: {@link #gatherRows} for a whole batch, each shared row read once. Per output
     * element the rows add in increasing order, the same bits as element by element.
     */
    default void gatherShared(final float[] w, final int wOffset, final int cols, final SharedRows uses,
                              final float[] out, final int outStride) {
        for (int r = 0; r < uses.rows(); r++) {
            final int row = wOffset + r * cols;
            for (int u = uses.from(r), end = uses.from(r + 1); u < end; u++) {
                final int o = uses.element(u) * outStride;
                final float s = uses.scale(u);
                for (int c = 0; c < cols; c++) {
                    out[o + c] += s * w[row + c];
                }
            }
        }
    }

    /**
     * {@code g[gOffset + r * cols + c] += scale * src[e * srcStride + c]} for every use {@code (r, e, scale)}: the
     * gradient of {@link #gatherShared}, each row of {@code g} summing its elements in increasing order (the
     * order of {@link #scatterAddRows} called element by element).
     */
    default void scatterShared(final float[] g, final int gOffset, final int cols, final SharedRows uses,
                               final float[] src, final int srcStride) {
        for (int r = 0; r < uses.rows(); r++) {
            final int row = gOffset + r * cols;
            for (int u = uses.from(r), end = uses.from(r + 1); u < end; u++) {
                final int o = uses.element(u) * srcStride;
                final float s = uses.scale(u);
                for (int c = 0; c < cols; c++) {
                    g[row + c] += s * src[o + c];
                }
            }
        }
    }

    /**
     * {@code out[e * outStride + r] = w[wOffset + r * cols ..] . x[e * xStride ..]} for every use {@code (r, e)}
     * (factors ignored): {@link #dotRows} for a whole batch, each shared row read once; the same dot products.
     */
    default void dotShared(final float[] w, final int wOffset, final int cols, final SharedRows uses,
                           final float[] x, final int xStride, final float[] out, final int outStride) {
        final int[] one = new int[1];
        for (int r = 0; r < uses.rows(); r++) {
            one[0] = r;
            for (int u = uses.from(r), end = uses.from(r + 1); u < end; u++) {
                final int e = uses.element(u);
                dotRows(w, wOffset, cols, one, 1, x, e * xStride, out, e * outStride);
            }
        }
    }

    /**
     * The kernels of a compressed gradient window ({@code mfac-sparse}, {@code ggt-sparse}) whose rows are on the
     * host; {@link WindowKernels#JAVA} unless the backend has faster ones with the same sums in the same order.
     */
    default WindowKernels windowKernels() {
        return WindowKernels.JAVA;
    }
}
