package io.spillway.engine.backend;

/**
 * The two kernels of a compressed gradient window (docs/spec-efcp-mfac.md §2.5), the hot loops of sparse M-FAC and
 * sparse GGT: m sparse dot products with a dense vector, and the weighted sum of the stored rows scattered
 * into a dense vector. Both accumulate in fp64 in a fixed order (rows in slot order, entries in storage
 * order), so a backend's results are deterministic and, for the same rows, equal to a dense window's.
 * A window gets them from the learner's backend ({@link ArrayBackend#windowKernels()}); {@link #JAVA} is the
 * reference every backend uses today. The CUDA backend's ring-buffer kernels ({@code ring_dots},
 * {@code ring_weighted_sum}) read a window resident on the device, which the optimizers do not keep yet.
 */
public interface WindowKernels {

    /** Plain Java loops over the host rows; stateless, thread-safe. */
    WindowKernels JAVA = new JavaWindowKernels();

    /** A window's rows as the kernels read them. */
    interface SparseRows {
        int slots();

        /** Entries stored in {@code slot}. */
        int count(int slot);

        /** Absolute coordinate of entry {@code j} of {@code slot}. */
        int index(int slot, int j);

        /** Value of entry {@code j} of {@code slot}. */
        float value(int slot, int j);
    }

    /** {@code out[r] = sum_j value(r, j) * x[index(r, j)]} for every slot. */
    void dots(SparseRows rows, double[] x, double[] out);

    /** {@code acc[index(r, j)] += alpha[r] * value(r, j)} for every slot r in order and entry j. */
    void addCombination(SparseRows rows, double[] alpha, double[] acc);
}
