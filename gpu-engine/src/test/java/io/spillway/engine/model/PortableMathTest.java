package io.spillway.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PortableMath} against {@link StrictMath} (fdlibm, correctly rounded to within an ulp). */
class PortableMathTest {
    private static double ulps(final double actual, final double expected) {
        return expected == actual ? 0 : Math.abs(actual - expected) / Math.ulp(expected);
    }

    @Test
    void expIsWithinAFewUlpsOverTheWholeRange() {
        final SplittableRandom random = new SplittableRandom(7);
        double worst = 0;
        for (int i = 0; i < 2_000_000; i++) {
            final double x = i < 1_000_000 ? random.nextDouble(-30, 30) : random.nextDouble(-708, 709.7);
            worst = Math.max(worst, ulps(PortableMath.exp(x), StrictMath.exp(x)));
        }
        assertThat(worst).as("worst error in ulps").isLessThanOrEqualTo(4);
        assertThat(PortableMath.exp(0)).isEqualTo(1.0);
        assertThat(PortableMath.exp(1)).isEqualTo(StrictMath.exp(1), org.assertj.core.api.Assertions.within(1e-15));
        assertThat(PortableMath.exp(709.78)).isFinite().isCloseTo(StrictMath.exp(709.78),
                org.assertj.core.api.Assertions.withinPercentage(1e-12));
        assertThat(PortableMath.exp(710)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(PortableMath.exp(Double.POSITIVE_INFINITY)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(PortableMath.exp(-800)).isZero();
        assertThat(PortableMath.exp(Double.NEGATIVE_INFINITY)).isZero();
        assertThat(PortableMath.exp(Double.NaN)).isNaN();
    }

    @Test
    void tanhAndSigmoidAreWithinAFewUlpsAndKeepTheirSymmetry() {
        final SplittableRandom random = new SplittableRandom(11);
        double worstTanh = 0;
        double worstSigmoid = 0;
        for (int i = 0; i < 2_000_000; i++) {
            final double x = i % 2 == 0 ? random.nextDouble(-25, 25) : random.nextDouble(-0.3, 0.3);
            worstTanh = Math.max(worstTanh, ulps(PortableMath.tanh(x), StrictMath.tanh(x)));
            worstSigmoid = Math.max(worstSigmoid, ulps(PortableMath.sigmoid(x), 1.0 / (1.0 + StrictMath.exp(-x))));
            assertThat(PortableMath.tanh(-x)).isEqualTo(-PortableMath.tanh(x));
        }
        // 1 - 2 / (e^2a + 1) loses about three bits to cancellation just above the series' range (a = 1/8): still
        // 2^-48 relative, 2^-25 of a float's ulp, and the cells round every result to float
        assertThat(worstTanh).as("tanh, worst error in ulps").isLessThanOrEqualTo(16);
        assertThat(worstSigmoid).as("sigmoid, worst error in ulps").isLessThanOrEqualTo(4);
        assertThat(PortableMath.tanh(0.0)).isEqualTo(0.0);
        assertThat(1 / PortableMath.tanh(-0.0)).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(PortableMath.tanh(1e-300)).isEqualTo(1e-300);
        assertThat(PortableMath.tanh(40)).isEqualTo(1.0);
        assertThat(PortableMath.tanh(Double.NaN)).isNaN();
        assertThat(PortableMath.sigmoid(0)).isEqualTo(0.5);
        assertThat(PortableMath.sigmoid(-1000)).isZero();
        assertThat(PortableMath.sigmoid(1000)).isEqualTo(1.0);
    }
}
