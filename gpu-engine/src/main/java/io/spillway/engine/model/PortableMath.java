package io.spillway.engine.model;

/**
 * {@code exp}, {@code e^x - 1}, {@code tanh} and the logistic sigmoid over float arrays, for the cells' gates and
 * softmax, in plain IEEE float arithmetic. Java's floating point is strict on every platform (no fused or wider
 * intermediates), so these give the same bits on every JVM, CPU and compilation tier, vectorised or not, which a
 * crash-recovered or recomputed step needs; {@link StrictMath} promises that too, but in double and one call per
 * value, and a third of an EGRU step went to it; {@link Math#exp} is faster but may differ by an ulp between
 * machines.
 *
 * <p>Method: Cody-Waite reduction {@code x = k ln2 + r}, {@code |r| <= ln2/2}, the Taylor polynomial of
 * {@code e^r - 1} to degree 7 (its remainder is under a quarter of a float ulp), and {@code 2^k} built by
 * multiplying by one exact power of two per bit of {@code k}, not by writing exponent bits: HotSpot vectorises loops
 * of float arithmetic but not bit reinterpretation. Each stage is its own short loop, because a long loop body is
 * not unrolled and so not vectorised either. Within 3 float ulps of the true values (the test compares with
 * {@link StrictMath}); on an AVX-512 core about twice as fast per value as the scalar double form it replaced.
 * Arguments are clamped to {@code [-86.5, 88]} first, so {@code exp} is never 0 or infinite there, and NaN stays NaN.
 */
public final class PortableMath {
    /** {@code 1.5 * 2^23}: adding then subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;
    private static final float LOG2_E_F = 1.44269504f;
    /** ln 2 split so that {@code k * LN2_HI_F} is exact for {@code |k| <= 127}. */
    private static final float LN2_HI_F = 0.693145752f;
    private static final float LN2_LO_F = 1.42860677e-6f;
    /**
     * x is clamped to {@code [MIN_F, MAX_F]}: then {@code k = round(x / ln 2)} lies in {@code [-125, 127]}
     * and {@code 2^k}, built up from {@code 2^-125}, stays a normal float at every partial product.
     */
    private static final float MIN_F = -86.5f;
    private static final float MAX_F = 88f;
    private static final float SCALE_FROM = 0x1p-125f;

    private PortableMath() {
    }

    /**
     * {@code x[i] = e^x[i]} for {@code i} in {@code [from, to)}, x clamped to [-86.5, 88] (so never 0 or infinite;
     * NaN stays NaN).
     */
    public static void expInPlace(final float[] x, final int from, final int to, final Scratch scratch) {
        final float[] twoK = scratch.prepare(to - from);
        reduce(x, from, to, scratch.k);
        powersOfTwo(scratch.k, twoK, to - from);
        for (int i = from; i < to; i++) {
            x[i] = (expPolynomialMinusOne(x[i]) + 1f) * twoK[i - from];
        }
    }

    /** {@code x[i] = e^x[i] - 1}, with full relative precision near 0; otherwise as {@link #expInPlace}. */
    public static void expm1InPlace(final float[] x, final int from, final int to, final Scratch scratch) {
        final float[] twoK = scratch.prepare(to - from);
        reduce(x, from, to, scratch.k);
        powersOfTwo(scratch.k, twoK, to - from);
        // e^x - 1 = 2^k (e^r - 1) + (2^k - 1): exact e^r - 1 when k = 0, no cancellation otherwise
        for (int i = from; i < to; i++) {
            final float s = twoK[i - from];
            x[i] = s * expPolynomialMinusOne(x[i]) + (s - 1f);
        }
    }

    /** {@code x[i] = 1 / (1 + e^-x[i])}; {@code scratch} as for {@link #expInPlace}. */
    public static void sigmoidInPlace(final float[] x, final int from, final int to, final Scratch scratch) {
        for (int i = from; i < to; i++) {
            x[i] = -x[i];
        }
        expInPlace(x, from, to, scratch);
        for (int i = from; i < to; i++) {
            x[i] = 1f / (1f + x[i]);
        }
    }

    /**
     * {@code x[i] = tanh(x[i]) = (e^2x - 1) / (e^2x + 1)}, formed from {@code e^2x - 1} so that it keeps its
     * precision near 0; {@code scratch} as for {@link #expInPlace}.
     */
    public static void tanhInPlace(final float[] x, final int from, final int to, final Scratch scratch) {
        for (int i = from; i < to; i++) {
            x[i] = 2f * x[i];
        }
        expm1InPlace(x, from, to, scratch);
        for (int i = from; i < to; i++) {
            x[i] = x[i] / (x[i] + 2f);
        }
    }

    /**
     * Clamps x, leaves {@code r = x - k ln2} in x and {@code k} in {@code k[i - from]}: three loops, because as
     * one the loop is too long for HotSpot to vectorise.
     */
    private static void reduce(final float[] x, final int from, final int to, final float[] k) {
        for (int i = from; i < to; i++) {
            x[i] = Math.max(MIN_F, Math.min(MAX_F, x[i]));
        }
        for (int i = from; i < to; i++) {
            k[i - from] = (x[i] * LOG2_E_F + ROUND) - ROUND;
        }
        for (int i = from; i < to; i++) {
            final float ki = k[i - from];
            x[i] = (x[i] - ki * LN2_HI_F) - ki * LN2_LO_F;
        }
    }

    /** {@code e^r - 1} for {@code |r| <= ln2 / 2}: Taylor to degree 7 (remainder under a quarter ulp). */
    private static float expPolynomialMinusOne(final float r) {
        float p = 1f / 5040f;
        p = p * r + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        return p * r;
    }

    /**
     * {@code twoK[j] = 2^k[j]} for {@code j < len} (k consumed): starting from {@code 2^-125}, one factor
     * {@code 1 + bit (2^2^b - 1)} per bit b of {@code k + 125} (each product exact), lowest bit first.
     */
    private static void powersOfTwo(final float[] k, final float[] twoK, final int len) {
        for (int j = 0; j < len; j++) {
            k[j] = k[j] + 125f;
            twoK[j] = SCALE_FROM;
        }
        multiplyByBit(k, twoK, len, 1f);
        multiplyByBit(k, twoK, len, 3f);
        multiplyByBit(k, twoK, len, 15f);
        multiplyByBit(k, twoK, len, 255f);
        multiplyByBit(k, twoK, len, 65535f);
        multiplyByBit(k, twoK, len, 0x1p32f);
        multiplyByBit(k, twoK, len, 0x1p64f);
        // what is left is bit 7, 0 or 1: 2^128 is two factors of 2^64 (1 + 2^64 rounds to 2^64)
        for (int j = 0; j < len; j++) {
            final float f = 1f + k[j] * 0x1p64f;
            twoK[j] = twoK[j] * f * f;
        }
    }

    /** Takes the lowest bit off each {@code m[j]} and, where it was 1, multiplies {@code twoK[j]} by the factor. */
    private static void multiplyByBit(final float[] m, final float[] twoK, final int len, final float factorMinusOne) {
        for (int j = 0; j < len; j++) {
            final float v = m[j];
            final float half = (v * 0.5f - 0.25f + ROUND) - ROUND; // floor(v / 2) for v a non-negative integer
            twoK[j] = twoK[j] * (1f + (v - 2f * half) * factorMinusOne);
            m[j] = half;
        }
    }

    /** Working space of the float forms, reusable by one thread at a time; grows to the longest range given. */
    public static final class Scratch {
        private float[] k = new float[0];
        private float[] twoK = new float[0];

        /** @param capacity the longest range expected (more is allowed, and grows the arrays) */
        public Scratch(final int capacity) {
            prepare(capacity);
        }

        private float[] prepare(final int length) {
            if (k.length < length) {
                k = new float[length];
                twoK = new float[length];
            }
            return twoK;
        }
    }
}
