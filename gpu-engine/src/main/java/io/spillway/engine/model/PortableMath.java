package io.spillway.engine.model;

/**
 * {@code exp}, {@code tanh} and the logistic sigmoid in plain IEEE double arithmetic, for the cells' gates and
 * softmax. Java's floating point is strict on every platform, so these give the same bits on every JVM, CPU and
 * compilation tier, which a crash-recovered or recomputed step needs; {@link StrictMath} promises that too, but its
 * fdlibm port spends about a third of an EGRU training step's time in {@code exp} and {@code expm1}.
 * {@link Math#exp} is faster but may differ by an ulp between machines.
 *
 * <p>{@code exp}: Cody-Waite reduction {@code x = k ln2 + r}, {@code |r| <= ln2/2}, then the Taylor polynomial of
 * degree 13 (its remainder is below 1e-17 relative) and an exact scaling by {@code 2^k}; within a few ulps of the
 * true value (the test compares with {@link StrictMath} over the range the cells use).
 */
public final class PortableMath {
    private static final double LOG2_E = 1.4426950408889634;
    /** ln 2 split so that {@code k * LN2_HI} is exact for the k that occur. */
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    /** Beyond these the result is infinite or zero (below: subnormal results flush to 0, well under float's range). */
    private static final double OVERFLOW = 709.782712893384;
    private static final double UNDERFLOW = -708.39641853226410622;

    private PortableMath() {
    }

    /** e^x. */
    public static double exp(final double x) {
        if (x != x) {
            return x;
        }
        if (x > OVERFLOW) {
            return Double.POSITIVE_INFINITY;
        }
        if (x < UNDERFLOW) {
            return 0.0;
        }
        final double k = Math.rint(x * LOG2_E);
        final double r = (x - k * LN2_HI) - k * LN2_LO;
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        final int e = (int) k;
        if (e > 1023) { // k = 1024 at the very top of the range: scale in two exact steps
            return p * 2.0 * Double.longBitsToDouble((long) (e - 1 + 1023) << 52);
        }
        return p * Double.longBitsToDouble((long) (e + 1023) << 52);
    }

    /** The hyperbolic tangent; odd, exact at 0, +-1 beyond |x| = 19.1 where it rounds to 1 in double. */
    public static double tanh(final double x) {
        final double a = Math.abs(x);
        final double t;
        if (a < 0x1p-3) {
            // 1 - 2 / (e^2a + 1) cancels near 0: the Taylor series instead (remainder below 1e-16 relative)
            final double a2 = a * a;
            t = a * (1.0 + a2 * (-1.0 / 3 + a2 * (2.0 / 15 + a2 * (-17.0 / 315 + a2 * (62.0 / 2835
                    + a2 * (-1382.0 / 155925 + a2 * (21844.0 / 6081075)))))));
        } else if (a > 19.1) {
            t = 1.0;
        } else {
            t = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
        }
        return x < 0 ? -t : (x > 0 ? t : x);
    }

    /** The logistic function {@code 1 / (1 + e^-x)}. */
    public static double sigmoid(final double x) {
        return 1.0 / (1.0 + exp(-x));
    }
}
