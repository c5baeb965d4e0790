package io.spillway.engine.backend;

/**
 * The compute backend SPI: the few operations the spiking learner needs, so the same learner runs on the
 * CPU reference backend or on a GPU. One interface, several implementations chosen at run time by
 * {@link Backends#select} with a logged reason for any fallback (the shape of Lucene's and jvector's
 * vectorization providers). Implementations live in sub-packages and are not public API.
 *
 * <p>Layout: every matrix is row-major; a "batch" argument {@code x} of {@code batch} rows of width
 * {@code k} holds row {@code b} at {@code x[b * k .. b * k + k)}. Sparse operations address whole rows of a
 * weight matrix (a row is the fan-out of one input or neuron), which is what makes event-driven
 * forward and backward passes cheap.
 *
 * <p>Determinism: on the CPU backend every operation sums in a fixed order, so equal inputs give
 * bitwise-equal outputs from run to run. Threading: a backend may be shared by threads only if its
 * implementation says so; the learner confines it to its trainer thread. Ownership: a backend owns
 * the native resources it creates (including those of {@link DenseMatrix} handles) and frees them in
 * {@link #close()}.
 */
public interface Backend extends AutoCloseable {

    /** Short name: {@code cpu}, {@code cuda}. */
    String name();

    /** Human-readable description of the device, for logs and metrics. */
    String deviceDescription();

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
     * Leaky integrate with hard reset, for one neuron population of {@code n} neurons:
     * {@code v[i] = alpha * (reset(i) ? 0 : vPrev[i]) + drive * current[i]}, where {@code reset(i)} holds for
     * the neurons listed in {@code resetIds[0 .. resetCount)} (the previous spikes). Then writes the ids
     * with {@code v[i] > theta} in increasing order into {@code spikesOut} and returns how many there were;
     * when {@code spikesOut} is too small the count is still returned and the caller must grow and retry
     * (never a silent drop).
     */
    int integrateAndFire(float[] vPrev, int vPrevOffset, int[] resetIds, int resetCount, float[] current,
                         int currentOffset, float alpha, float drive, float[] v, int vOffset, int n,
                         float theta, int[] spikesOut);

    /**
     * Surrogate-gradient chain rule for one population:
     * {@code dv[i] += ds[i] * (v[i] > theta2 ? 1 / (beta * |v[i] - theta| + 1)^2 : 0)}.
     */
    void surrogateBackward(float[] v, int vOffset, float[] ds, int dsOffset, float theta, float beta, float theta2,
                           float[] dv, int dvOffset, int n);

    /** Frees the backend's native resources; handles it made become unusable. */
    @Override
    void close();
}
