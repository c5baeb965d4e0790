package io.spillway.engine.backend;

/**
 * The reference window kernels ({@link WindowKernels#JAVA}): plain loops over host arrays, fp64 accumulation, fixed
 * order. Stateless and thread-safe.
 */
final class JavaWindowKernels implements WindowKernels {

    @Override
    public void dots(final SparseRows rows, final double[] x, final double[] out) {
        for (int r = 0; r < rows.slots(); r++) {
            double s = 0;
            final int n = rows.count(r);
            for (int j = 0; j < n; j++) {
                final float v = rows.value(r, j);
                if (v != 0f) {
                    s += v * x[rows.index(r, j)];
                }
            }
            out[r] = s;
        }
    }

    @Override
    public void addCombination(final SparseRows rows, final double[] alpha, final double[] acc) {
        for (int r = 0; r < rows.slots(); r++) {
            final double a = alpha[r];
            if (a == 0) {
                continue;
            }
            final int n = rows.count(r);
            for (int j = 0; j < n; j++) {
                final float v = rows.value(r, j);
                if (v != 0f) {
                    acc[rows.index(r, j)] += a * v;
                }
            }
        }
    }
}
