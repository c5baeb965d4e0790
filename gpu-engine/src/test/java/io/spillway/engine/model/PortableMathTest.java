package io.spillway.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** {@link PortableMath} against {@link StrictMath} (fdlibm, correctly rounded to within an ulp). */
class PortableMathTest {
    private static final int N = 4099; // not a multiple of any vector width: the tail loops run too

    interface InPlace {
        void apply(float[] x, int from, int to, PortableMath.Scratch scratch);
    }

    /** Worst error in float ulps of the true value over {@code xs}, skipping true values below {@code floor}. */
    private static double worstUlps(final InPlace f, final DoubleUnaryOperator truth, final float[] xs,
                                    final double floor) {
        final float[] y = xs.clone();
        f.apply(y, 0, y.length, new PortableMath.Scratch(y.length));
        double worst = 0;
        for (int i = 0; i < xs.length; i++) {
            final double expected = truth.applyAsDouble(xs[i]);
            if (Math.abs(expected) < floor) {
                continue;
            }
            worst = Math.max(worst, Math.abs(y[i] - expected) / Math.ulp((float) expected));
        }
        return worst;
    }

    private static float[] uniform(final long seed, final double from, final double to) {
        final SplittableRandom random = new SplittableRandom(seed);
        final float[] xs = new float[N];
        for (int i = 0; i < N; i++) {
            xs[i] = (float) random.nextDouble(from, to);
        }
        return xs;
    }

    @Test
    void eachFunctionIsWithinThreeUlpsOfTheTrueValue() {
        for (int round = 0; round < 50; round++) {
            final float[] wide = uniform(round, -86.5, 88);
            final float[] gate = uniform(100 + round, -12, 12);
            final float[] small = uniform(200 + round, -0.4, 0.4);
            final float[] tiny = uniform(300 + round, -1e-6, 1e-6);
            for (final float[] xs : new float[][] {wide, gate, small, tiny}) {
                assertThat(worstUlps(PortableMath::expInPlace, StrictMath::exp, xs, 0)).as("exp")
                        .isLessThanOrEqualTo(2);
                assertThat(worstUlps(PortableMath::expm1InPlace, StrictMath::expm1, xs, 0)).as("expm1")
                        .isLessThanOrEqualTo(3);
                assertThat(worstUlps(PortableMath::tanhInPlace, StrictMath::tanh, xs, 0)).as("tanh")
                        .isLessThanOrEqualTo(3);
                // below e^-86.5 the sigmoid is clamped (see the next test): compare where it is not
                assertThat(worstUlps(PortableMath::sigmoidInPlace, x -> 1 / (1 + StrictMath.exp(-x)), xs, 1e-37))
                        .as("sigmoid").isLessThanOrEqualTo(3);
            }
        }
    }

    @Test
    void edgesAreClampedNeverInfiniteAndNanStaysNan() {
        final float[] x = {0f, -0f, 1000f, -1000f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        final PortableMath.Scratch scratch = new PortableMath.Scratch(1);
        final float[] exp = x.clone();
        PortableMath.expInPlace(exp, 0, exp.length, scratch);
        assertThat(exp[0]).isEqualTo(1f);
        assertThat(exp[1]).isEqualTo(1f);
        assertThat((double) exp[2]).isCloseTo(StrictMath.exp(88), withinPercentage(1e-5));
        assertThat((double) exp[3]).isCloseTo(StrictMath.exp(-86.5), withinPercentage(1e-5));
        assertThat(exp[4]).isEqualTo(exp[2]);
        assertThat(exp[5]).isEqualTo(exp[3]);
        assertThat(exp[6]).isNaN();
        final float[] tanh = x.clone();
        PortableMath.tanhInPlace(tanh, 0, tanh.length, scratch);
        assertThat(tanh).startsWith(0f, 0f, 1f, -1f, 1f, -1f);
        assertThat(tanh[6]).isNaN();
        final float[] sigmoid = x.clone();
        PortableMath.sigmoidInPlace(sigmoid, 0, sigmoid.length, scratch);
        assertThat(sigmoid[0]).isEqualTo(0.5f);
        assertThat(sigmoid[2]).isEqualTo(1f);
        assertThat(sigmoid[3]).isBetween(0f, 1e-37f);
        assertThat(sigmoid[6]).isNaN();
        final float[] expm1 = {1e-30f, -1e-30f};
        PortableMath.expm1InPlace(expm1, 0, 2, scratch);
        assertThat(expm1).containsExactly(1e-30f, -1e-30f);
    }

    /**
     * A value's result does not depend on where it sits or how long the range is: the vectorised body, its tail
     * and a range of one give the same bits (what makes a recomputed step equal to the first).
     */
    @Test
    void resultsDoNotDependOnTheRangeTheyAreComputedIn() {
        final float[] xs = uniform(9, -20, 20);
        final InPlace[] functions = {PortableMath::expInPlace, PortableMath::expm1InPlace,
            PortableMath::tanhInPlace, PortableMath::sigmoidInPlace};
        final PortableMath.Scratch scratch = new PortableMath.Scratch(4);
        for (final InPlace f : functions) {
            final float[] whole = xs.clone();
            f.apply(whole, 0, whole.length, scratch); // grows the scratch
            final float[] part = xs.clone();
            f.apply(part, 3, 1000, scratch);
            for (int i = 0; i < xs.length; i++) {
                final float[] one = {xs[i]};
                f.apply(one, 0, 1, scratch);
                assertThat(Float.floatToRawIntBits(one[0])).isEqualTo(Float.floatToRawIntBits(whole[i]));
                if (i >= 3 && i < 1000) {
                    assertThat(part[i]).isEqualTo(whole[i]);
                } else {
                    assertThat(part[i]).as("outside the range").isEqualTo(xs[i]);
                }
            }
        }
    }
}
