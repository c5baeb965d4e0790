package io.spillway.engine.model.egru;

import io.spillway.engine.model.ParameterTensor;

/**
 * An independent dense EGRU in double precision, for gradient checks: full matrix products over every unit
 * (no event lists), the equations of docs/learner.md §2 written out directly, and no backward pass.
 *
 * <p>The gradient the engine computes is defined by the pseudo-derivative, not by the step function, so finite
 * differences of the true loss cannot check it. Instead this reference can run in a linearised mode around a
 * recorded trajectory: there {@code o_t = H0_t + P(c-hat_t - theta) - P(c-hat0_t - theta0)}, where {@code H0},
 * {@code c-hat0}, {@code theta0} are the unperturbed run's events, cell states and thresholds and {@code P} is
 * the antiderivative of the pseudo-derivative. At the recorded point this is the exact forward pass, and its
 * derivative is the chain rule with {@code do/dc-hat = pseudo-derivative}: central differences of it are the
 * surrogate-defined gradient, independent of the engine's hand-derived backward.
 */
final class EgruReference {
    private final EgruSettings s;
    private final EgruParameters layout;
    private final EgruFixture fx;
    private final int batch;
    private final int steps;
    private final int n;
    private final int layers;
    /** [t][pop * n + i], recorded by {@link #record}. */
    private double[][] events0;
    private double[][] cell0;
    private double[] theta0;
    private final java.util.Map<String, ParameterTensor> tensors = new java.util.HashMap<>();

    EgruReference(final EgruFixture fx) {
        this.fx = fx;
        this.s = fx.settings;
        this.layout = fx.params;
        this.batch = fx.lengths.length;
        this.steps = fx.steps();
        this.n = s.hiddenSize();
        this.layers = s.layers();
    }

    /** Runs the exact forward pass at {@code p}, records the trajectory and returns its events per step. */
    int[][][] record(final double[] p) {
        events0 = new double[steps][layers * batch * n];
        cell0 = new double[steps][layers * batch * n];
        theta0 = p.clone();
        run(p, true);
        final int[][][] out = new int[steps][layers * batch][];
        for (int t = 0; t < steps; t++) {
            for (int pop = 0; pop < layers * batch; pop++) {
                int count = 0;
                for (int i = 0; i < n; i++) {
                    count += events0[t][pop * n + i] > 0.5 ? 1 : 0;
                }
                out[t][pop] = new int[count];
                int k = 0;
                for (int i = 0; i < n; i++) {
                    if (events0[t][pop * n + i] > 0.5) {
                        out[t][pop][k++] = i;
                    }
                }
            }
        }
        return out;
    }

    /** The loss of the linearised forward pass at {@code p} (call {@link #record} first). */
    double loss(final double[] p) {
        return run(p, false);
    }

    private int offset(final String tensor) {
        return tensors.computeIfAbsent(tensor, name -> layout.tensors().stream()
                .filter(x -> x.name().equals(name)).findFirst().orElseThrow()).offset();
    }

    private double antiderivative(final double x) {
        final double k = s.pseudoDerivativeScale();
        if (k == 0) {
            return 0;
        }
        if (x <= -1 / k) {
            return 0;
        }
        if (x <= 0) {
            return k * k / 2 * (x + 1 / k) * (x + 1 / k);
        }
        if (x <= 1 / k) {
            return 0.5 + k * x - k * k * x * x / 2;
        }
        return 1;
    }

    private static double sigmoid(final double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private double run(final double[] p, final boolean recording) {
        final int targetCount = (int) java.util.stream.IntStream.range(0, steps * batch)
                .filter(i -> i / batch < fx.lengths[i % batch] && fx.targets[i] >= 0).count();
        // state: c-hat and o per population
        final double[] chat = new double[layers * batch * n];
        final double[] o = new double[layers * batch * n];
        for (int pop = 0; pop < layers * batch; pop++) {
            for (int i = 0; i < n; i++) {
                chat[pop * n + i] = fx.initial.cell(pop / batch, pop % batch, i);
            }
            for (final int i : fx.initial.eventIds(pop / batch, pop % batch)) {
                o[pop * n + i] = 1;
            }
        }
        double loss = 0;
        final int g3 = 3 * n;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                if (t >= fx.lengths[b]) {
                    continue;
                }
                for (int l = 0; l < layers; l++) {
                    final int pop = l * batch + b;
                    final String pre = "layer" + l + ".";
                    final int biasIn = offset(pre + "bias_in");
                    final int biasRec = offset(pre + "bias_rec");
                    final int wIn = offset(pre + "w_in");
                    final int wRec = offset(pre + "w_rec");
                    final int th = offset(pre + "threshold");
                    final double[] wx = new double[g3];
                    final double[] rh = new double[g3];
                    for (int k = 0; k < g3; k++) {
                        wx[k] = p[biasIn + k];
                        rh[k] = p[biasRec + k];
                        if (l == 0) {
                            final int[] rows = fx.rows[t * batch + b];
                            for (int j = 0; j < rows.length; j++) {
                                wx[k] += fx.scales[t * batch + b][j] * p[wIn + rows[j] * g3 + k];
                            }
                        } else {
                            final int below = (l - 1) * batch + b;
                            for (int j = 0; j < n; j++) {
                                wx[k] += o[below * n + j] * chat[below * n + j] * p[wIn + j * g3 + k];
                            }
                        }
                        for (int j = 0; j < n; j++) {
                            rh[k] += o[pop * n + j] * chat[pop * n + j] * p[wRec + j * g3 + k];
                        }
                    }
                    double fired = 0;
                    for (int i = 0; i < n; i++) {
                        final double theta = p[th + i];
                        final double u = sigmoid(wx[i] + rh[i]);
                        final double r = sigmoid(wx[n + i] + rh[n + i]);
                        final double g = Math.tanh(wx[2 * n + i] + r * rh[2 * n + i]);
                        final double before = chat[pop * n + i] - o[pop * n + i] * theta;
                        final double c = u * before + (1 - u) * g;
                        final int k = pop * n + i;
                        final double out;
                        if (recording) {
                            out = c > theta ? 1 : 0;
                            events0[t][k] = out;
                            cell0[t][k] = c;
                        } else {
                            final double theta0i = theta0[th + i];
                            out = events0[t][k] + antiderivative(c - theta) - antiderivative(cell0[t][k] - theta0i);
                        }
                        chat[k] = c;
                        o[k] = out;
                        fired += out;
                    }
                    if (s.activityRegularization() > 0 && targetCount > 0) {
                        final double d = fired / n - s.activityTarget();
                        loss += s.activityRegularization() / targetCount * d * d;
                    }
                }
                final int target = fx.targets[t * batch + b];
                if (target < 0) {
                    continue;
                }
                final int classes = s.vocabularySize();
                final double[] z = new double[classes];
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < classes; k++) {
                    z[k] = p[offset("readout.bias") + k];
                    for (int l = 0; l < layers; l++) {
                        final int pop = l * batch + b;
                        for (int i = 0; i < n; i++) {
                            final double f = s.readout() == EgruSettings.Readout.CELL ? chat[pop * n + i]
                                    : o[pop * n + i] * chat[pop * n + i];
                            z[k] += p[offset("readout.w") + k * layers * n + l * n + i] * f;
                        }
                    }
                    max = Math.max(max, z[k]);
                }
                double sum = 0;
                for (int k = 0; k < classes; k++) {
                    sum += Math.exp(z[k] - max);
                }
                loss += (max + Math.log(sum) - z[target]) / targetCount;
            }
        }
        return loss;
    }
}
