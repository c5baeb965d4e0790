package io.spillway.engine.model.egru;

import io.spillway.engine.model.SplitMix64;

/** Gaussian, gamma and beta draws from a {@link SplitMix64}, for initialisation only (reproducible from a seed). */
final class RandomDraws {

    private RandomDraws() {
    }

    /** Standard normal (Box-Muller, one value per two uniforms). */
    static double gaussian(final SplitMix64 rng) {
        final double u = 1.0 - rng.nextDouble(); // (0, 1]
        final double v = rng.nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * v);
    }

    /** Gamma(shape, 1): Marsaglia-Tsang, with the {@code U^(1/a)} boost below shape 1. */
    static double gamma(final SplitMix64 rng, final double shape) {
        if (shape < 1) {
            return gamma(rng, shape + 1) * StrictMath.pow(1.0 - rng.nextDouble(), 1.0 / shape);
        }
        final double d = shape - 1.0 / 3;
        final double c = 1 / StrictMath.sqrt(9 * d);
        while (true) {
            final double x = gaussian(rng);
            final double v = StrictMath.pow(1 + c * x, 3);
            if (v <= 0) {
                continue;
            }
            final double u = 1.0 - rng.nextDouble();
            if (StrictMath.log(u) < 0.5 * x * x + d - d * v + d * StrictMath.log(v)) {
                return d * v;
            }
        }
    }

    /** Beta(a, b) as {@code X / (X + Y)} of two gamma draws. */
    static double beta(final SplitMix64 rng, final double a, final double b) {
        final double x = gamma(rng, a);
        final double y = gamma(rng, b);
        return x / (x + y);
    }
}
