package io.spillway.engine.optim;

/**
 * Top-K selection by magnitude: exactly {@code min(k, n)} entries, the largest |a| first, ties broken
 * towards the smaller index, returned in increasing index order. Exact and deterministic: the k-th
 * largest magnitude is found by quickselect on a copy, then one ordered pass takes everything above it
 * and the first equal ones. Used by EFCP's gradient compression and by the streams app's error-feedback delta
 * compression.
 *
 * <p>Threading: not thread-safe (it reuses a scratch buffer); one instance per thread.
 */
public final class TopK {
    private double[] scratch = new double[0];

    /**
     * Selects within {@code a[from, from + length)}; writes the chosen absolute indices to
     * {@code out[outOffset..]} and returns how many.
     *
     * @throws IllegalArgumentException if a value is NaN or infinite (a diverged gradient)
     */
    public int select(final double[] a, final int from, final int length, final int k, final int[] out,
                      final int outOffset) {
        final int want = Math.min(k, length);
        if (want <= 0) {
            return 0;
        }
        if (scratch.length < length) {
            scratch = new double[length];
        }
        for (int i = 0; i < length; i++) {
            final double v = a[from + i];
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("non-finite value " + v + " at coordinate " + (from + i));
            }
            scratch[i] = Math.abs(v);
        }
        final double threshold = kthLargest(scratch, length, want);
        int above = 0;
        for (int i = 0; i < length; i++) {
            if (Math.abs(a[from + i]) > threshold) {
                above++;
            }
        }
        int equalsLeft = want - above;
        int n = 0;
        for (int i = 0; i < length && n < want; i++) {
            final double m = Math.abs(a[from + i]);
            if (m > threshold || (m == threshold && equalsLeft-- > 0)) {
                out[outOffset + n++] = from + i;
            }
        }
        return n;
    }

    /** The k-th largest of {@code v[0, n)} (1-based k); reorders {@code v}. */
    static double kthLargest(final double[] v, final int n, final int k) {
        int lo = 0;
        int hi = n - 1;
        final int target = k - 1; // index in descending order
        while (lo < hi) {
            final double pivot = median3(v[lo], v[(lo + hi) >>> 1], v[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (v[i] > pivot) {
                    i++;
                }
                while (v[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    final double t = v[i];
                    v[i] = v[j];
                    v[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return v[target];
            }
        }
        return v[target];
    }

    private static double median3(final double a, final double b, final double c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
