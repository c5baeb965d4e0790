package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The spec's experiment R3 (docs/spec-efcp-mfac.md §5.2), at its published best settings: logistic regression on
 * data in a 50-dimensional subspace of R^2000 with condition 1e4. Dense M-FAC beats SGD; sparse M-FAC at
 * 1% with error feedback beats SGD and is far better than the same compression without error feedback.
 * Ratios, not digits, are checked (the random draws differ from the spec's).
 */
class LogisticRegressionIT {
    private static final int N = 20_000;
    private static final int D = 2_000;
    private static final int R = 50;
    private static final int BATCH = 500;

    private final double[][] q = new double[D][R];
    private final double[][] z = new double[N][R];
    private final float[][] x = new float[N][];
    private final int[] y = new int[N];

    LogisticRegressionIT() {
        final SplittableRandom rnd = new SplittableRandom(2024);
        // Orthonormal basis of a random R-dim subspace (Gram-Schmidt).
        for (int j = 0; j < R; j++) {
            for (int i = 0; i < D; i++) {
                q[i][j] = rnd.nextGaussian();
            }
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < D; i++) {
                    dot += q[i][j] * q[i][p];
                }
                for (int i = 0; i < D; i++) {
                    q[i][j] -= dot * q[i][p];
                }
            }
            double norm = 0;
            for (int i = 0; i < D; i++) {
                norm += q[i][j] * q[i][j];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < D; i++) {
                q[i][j] /= norm;
            }
        }
        final double[] ev = new double[R];
        final double[] omega = new double[R];
        for (int j = 0; j < R; j++) {
            ev[j] = Math.pow(10, -4.0 * j / (R - 1));
            omega[j] = rnd.nextGaussian() * 0.9 / (Math.sqrt(R) * Math.sqrt(ev[j]));
        }
        for (int s = 0; s < N; s++) {
            double logit = 0;
            for (int j = 0; j < R; j++) {
                z[s][j] = rnd.nextGaussian() * Math.sqrt(ev[j]);
                logit += z[s][j] * omega[j];
            }
            x[s] = new float[D];
            for (int i = 0; i < D; i++) {
                double v = 0;
                for (int j = 0; j < R; j++) {
                    v += q[i][j] * z[s][j];
                }
                x[s][i] = (float) v;
            }
            y[s] = rnd.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
        }
    }

    private double loss(final float[] w) {
        double f = 0;
        double reg = 0;
        for (final float v : w) {
            reg += v * (double) v;
        }
        for (int s = 0; s < N; s++) {
            double a = 0;
            for (int i = 0; i < D; i++) {
                a += x[s][i] * w[i];
            }
            f += Math.log1p(Math.exp(-Math.abs(a))) + Math.max(a, 0) - y[s] * a;
        }
        return f / N + 0.5e-4 * reg;
    }

    /**
     * f* by Newton in the data subspace (the optimum lies in span(Q): the loss sees only Q^T w). Fails unless Newton
     * converged: the last step's gradient norm must be at rounding level, or f* would not be the optimum and every
     * sub-optimality below would be measured against the wrong floor.
     */
    private double optimum() {
        final double[] omega = new double[R];
        double gradientNorm = Double.NaN;
        for (int it = 0; it < 40; it++) {
            final double[] g = new double[R];
            final double[][] h = new double[R][R];
            for (int s = 0; s < N; s++) {
                double a = 0;
                for (int j = 0; j < R; j++) {
                    a += z[s][j] * omega[j];
                }
                final double p = 1 / (1 + Math.exp(-a));
                for (int j = 0; j < R; j++) {
                    g[j] += (p - y[s]) * z[s][j] / N;
                    for (int k = 0; k < R; k++) {
                        h[j][k] += p * (1 - p) * z[s][j] * z[s][k] / N;
                    }
                }
            }
            double squares = 0;
            for (int j = 0; j < R; j++) {
                g[j] += 1e-4 * omega[j];
                h[j][j] += 1e-4;
                squares += g[j] * g[j];
            }
            gradientNorm = Math.sqrt(squares);
            final double[] delta = solve(h, g);
            for (int j = 0; j < R; j++) {
                omega[j] -= delta[j];
            }
        }
        assertThat(gradientNorm).as("gradient norm at Newton's last iterate").isLessThan(1e-10);
        final float[] w = new float[D];
        for (int i = 0; i < D; i++) {
            double v = 0;
            for (int j = 0; j < R; j++) {
                v += q[i][j] * omega[j];
            }
            w[i] = (float) v;
        }
        return loss(w);
    }

    private static double[] solve(final double[][] h, final double[] g) {
        final int n = g.length;
        final double[][] a = new double[n][n + 1];
        for (int i = 0; i < n; i++) {
            System.arraycopy(h[i], 0, a[i], 0, n);
            a[i][n] = g[i];
        }
        for (int c = 0; c < n; c++) {
            for (int i = c + 1; i < n; i++) {
                final double f = a[i][c] / a[c][c];
                for (int j = c; j <= n; j++) {
                    a[i][j] -= f * a[c][j];
                }
            }
        }
        final double[] out = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = a[i][n];
            for (int j = i + 1; j < n; j++) {
                s -= a[i][j] * out[j];
            }
            out[i] = s / a[i][i];
        }
        return out;
    }

    /** Minibatch SGD-style loop with eta_t = eta (1 - t/T); returns the relative sub-optimality. */
    private double train(final java.util.function.Function<Float, Optimizer> make, final float eta, final int steps,
                         final double f0, final double fStar) {
        final SplittableRandom rnd = new SplittableRandom(99);
        final float[] w = new float[D];
        Optimizer opt = make.apply(eta);
        opt.initialise(D);
        final float[] grad = new float[D];
        for (int t = 0; t < steps; t++) {
            java.util.Arrays.fill(grad, 0f);
            for (int b = 0; b < BATCH; b++) {
                final int s = rnd.nextInt(N);
                double a = 0;
                for (int i = 0; i < D; i++) {
                    a += x[s][i] * w[i];
                }
                final float r = (float) ((1 / (1 + Math.exp(-a)) - y[s]) / BATCH);
                for (int i = 0; i < D; i++) {
                    grad[i] += r * x[s][i];
                }
            }
            for (int i = 0; i < D; i++) {
                grad[i] += 1e-4f * w[i];
            }
            // Linear decay: scale the gradient step through a fresh learning rate ratio.
            final float scale = 1f - t / (float) steps;
            final float[] before = w.clone();
            opt.step(w, grad);
            for (int i = 0; i < D; i++) {
                w[i] = before[i] + scale * (w[i] - before[i]);
            }
        }
        return (loss(w) - fStar) / (f0 - fStar);
    }

    @Test
    void mfacBeatsSgdAndErrorFeedbackMatters() {
        final double fStar = optimum();
        final double f0 = loss(new float[D]);
        // At w = 0 every sample costs log 2; the optimum must lie clearly below that (the spec measured a 0.061 gap).
        assertThat(f0).isCloseTo(Math.log(2), within(1e-9));
        assertThat(f0 - fStar).isGreaterThan(0.01);
        final int steps = 500;
        // Best in a small grid around the spec's best settings, as the spec's table is.
        final double sgd = Math.min(train(eta -> new Sgd(eta), 32f, steps, f0, fStar),
                train(eta -> new Sgd(eta), 64f, steps, f0, fStar));
        final double dense = train(eta -> new MFac(MFacSettings.dense(eta, 64, 1e-5), null), 1e-3f, steps, f0, fStar);
        double sparse = Double.MAX_VALUE;
        for (final double[] setting : new double[][] {{0.03, 1e-3}, {0.1, 3e-3}, {0.01, 3e-4}}) {
            sparse = Math.min(sparse, train(eta -> new MFac(MFacSettings.sparse(eta, 64, setting[1], 0.01), null),
                    (float) setting[0], steps, f0, fStar));
        }
        final double noEf = train(eta -> new MFac(MFacSettings.sparse(eta, 64, 1e-5, 0.01).withErrorFeedback(false),
                null), 1e-3f, steps, f0, fStar);
        System.out.printf("R3 T=%d: SGD %.3g, M-FAC %.3g, S-MFAC(EF) %.3g, S-MFAC(no EF) %.3g%n", steps, sgd, dense,
                sparse, noEf);
        assertThat(dense / sgd).isLessThanOrEqualTo(0.5);
        assertThat(sparse).isLessThanOrEqualTo(sgd);
        assertThat(sparse).isLessThanOrEqualTo(0.2 * noEf);
    }
}
