package io.spillway.engine.model.lif;

import io.spillway.engine.model.ParameterTensor;
import java.util.Arrays;

/**
 * Independent fp64 dense reference of the LIF network and its BPTT, written from the equations and not
 * from the engine's code: dense input vectors, dense spike vectors, full matrix products. In {@code smooth}
 * mode the spike value passed on (to the next layer, the recurrence) is the smooth function
 * {@code f(u) = sign(u) (1 - 1 / (beta |u| + 1)) / beta} whose true derivative equals the surrogate, while the
 * reset mask stays the hard {@code H(u)} (piecewise constant: its true derivative is 0 almost everywhere), so
 * central finite differences of {@link #loss} check {@link #gradient} exactly. In hard mode it computes what
 * the engine computes.
 */
final class DenseReference {
    final LifSettings s;
    final LifParameters layout;
    final boolean smooth;
    final int batch;
    final int steps;
    final int[] lengths;
    final double[][] x; // [t * batch + b] dense layer-0 input
    final int[] targets;
    final double[] v0; // [l][b][i] initial potentials
    final double[] a0; // initial adaptation (0 without)
    final boolean[] h0; // initial spikes

    DenseReference(final LifParameters layout, final boolean smooth, final int[] lengths, final int[][] rows,
                   final float[][] scales, final int[] targets, final LifState initial) {
        this.s = layout.settings();
        this.layout = layout;
        this.smooth = smooth;
        this.batch = lengths.length;
        this.steps = Arrays.stream(lengths).max().orElse(0);
        this.lengths = lengths;
        this.targets = targets;
        this.x = new double[batch * steps][s.inputDimension()];
        for (int i = 0; i < batch * steps; i++) {
            if (rows[i] != null) {
                for (int k = 0; k < rows[i].length; k++) {
                    x[i][rows[i][k]] += scales[i][k];
                }
            }
        }
        final int n = s.hiddenSize();
        v0 = new double[s.layers() * batch * n];
        a0 = new double[v0.length];
        h0 = new boolean[v0.length];
        for (int l = 0; l < s.layers(); l++) {
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < n; i++) {
                    v0[(l * batch + b) * n + i] = initial.potential(l, b, i);
                    a0[(l * batch + b) * n + i] = initial.adaptation(l, b, i);
                }
                for (final int i : initial.spikeIds(l, b)) {
                    h0[(l * batch + b) * n + i] = true;
                }
            }
        }
    }

    private double f(final double u) {
        return smooth ? Math.signum(u) * (1 - 1 / (s.beta() * Math.abs(u) + 1)) / s.beta() : (u > 0 ? 1 : 0);
    }

    /** Surrogate at {@code u = V - gamma a}. */
    private double fPrime(final double u) {
        if (!(u > s.theta2())) {
            return 0;
        }
        final double d = s.beta() * Math.abs(u - s.theta()) + 1;
        return 1 / (d * d);
    }

    private double w(final double[] p, final String tensor, final int r, final int c) {
        final ParameterTensor t = layout.tensor(tensor);
        return p[t.offset() + r * t.cols() + c];
    }

    private int idx(final String tensor, final int r, final int c) {
        final ParameterTensor t = layout.tensor(tensor);
        return t.offset() + r * t.cols() + c;
    }

    /** Forward record: V[t][l][b][i], spike values and hard spikes, logits. */
    final class Trace {
        final double[][] v = new double[steps][];
        final double[][] u = new double[steps][]; // V - gamma a: what the threshold and surrogate see
        final double[][] sv = new double[steps][];
        final boolean[][] h = new boolean[steps][];
        double loss;
    }

    Trace forward(final double[] p) {
        final int n = s.hiddenSize();
        final int layers = s.layers();
        final double drive = (1 - (double) s.alpha()) * s.gain();
        final Trace tr = new Trace();
        double[] vPrev = v0.clone();
        double[] aPrev = a0.clone();
        boolean[] hPrev = h0.clone();
        double[] sPrev = new double[v0.length];
        for (int i = 0; i < v0.length; i++) {
            sPrev[i] = smooth ? f(v0[i] - s.theta()) : (h0[i] ? 1 : 0);
        }
        final int targetsTotal = countTargets();
        for (int t = 0; t < steps; t++) {
            final double[] v = vPrev.clone();
            final double[] a = aPrev.clone();
            final double[] u = new double[v.length];
            final double[] sv = sPrev.clone();
            final boolean[] h = hPrev.clone();
            for (int b = 0; b < batch; b++) {
                if (t >= lengths[b]) {
                    continue;
                }
                for (int l = 0; l < layers; l++) {
                    final int p0 = (l * batch + b) * n;
                    for (int i = 0; i < n; i++) {
                        double cur = w(p, "layer" + l + ".bias", 0, i);
                        if (l == 0) {
                            for (int j = 0; j < s.inputDimension(); j++) {
                                cur += x[t * batch + b][j] * w(p, "layer0.w_in", j, i);
                            }
                        } else {
                            final int q0 = ((l - 1) * batch + b) * n;
                            for (int j = 0; j < n; j++) {
                                cur += sv[q0 + j] * w(p, "layer" + l + ".w_in", j, i);
                            }
                        }
                        for (int j = 0; j < n; j++) {
                            cur += sPrev[p0 + j] * w(p, "layer" + l + ".w_rec", j, i);
                        }
                        v[p0 + i] = s.alpha() * vPrev[p0 + i] * (hPrev[p0 + i] ? 0 : 1) + drive * cur;
                    }
                    for (int i = 0; i < n; i++) {
                        if (s.adaptive()) {
                            a[p0 + i] = s.adaptationDecay() * aPrev[p0 + i] + sPrev[p0 + i];
                        }
                        u[p0 + i] = v[p0 + i] - s.adaptation() * a[p0 + i];
                        h[p0 + i] = u[p0 + i] > s.theta();
                        sv[p0 + i] = f(u[p0 + i] - s.theta());
                    }
                }
                final int target = targets[t * batch + b];
                if (target >= 0) {
                    final double[] z = logits(p, v, b);
                    tr.loss += (logSumExp(z) - z[target]) / targetsTotal;
                }
            }
            tr.v[t] = v;
            tr.u[t] = u;
            tr.sv[t] = sv;
            tr.h[t] = h;
            vPrev = v;
            aPrev = a;
            sPrev = sv;
            hPrev = h;
        }
        return tr;
    }

    int countTargets() {
        int c = 0;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                if (t < lengths[b] && targets[t * batch + b] >= 0) {
                    c++;
                }
            }
        }
        return c;
    }

    private double[] logits(final double[] p, final double[] v, final int b) {
        final int n = s.hiddenSize();
        final int top = ((s.layers() - 1) * batch + b) * n;
        final double[] z = new double[s.vocabularySize()];
        for (int k = 0; k < z.length; k++) {
            z[k] = w(p, "readout.bias", 0, k);
            for (int i = 0; i < n; i++) {
                z[k] += w(p, "readout.w", k, i) * v[top + i];
            }
        }
        return z;
    }

    private static double logSumExp(final double[] z) {
        double m = Double.NEGATIVE_INFINITY;
        for (final double d : z) {
            m = Math.max(m, d);
        }
        double sum = 0;
        for (final double d : z) {
            sum += Math.exp(d - m);
        }
        return m + Math.log(sum);
    }

    double loss(final double[] p) {
        return forward(p).loss;
    }

    /** Reverse-mode gradient of {@link #loss}, with the surrogate as dS/dV and the reset mask held constant. */
    double[] gradient(final double[] p) {
        final Trace tr = forward(p);
        final int n = s.hiddenSize();
        final int layers = s.layers();
        final double drive = (1 - (double) s.alpha()) * s.gain();
        final double[] g = new double[p.length];
        final int total = countTargets();
        double[] lamV = new double[v0.length]; // dL/dV_t from later steps (leak path)
        double[] lamS = new double[v0.length]; // dL/dS_t from later steps (recurrent and adaptation paths)
        double[] lamA = new double[v0.length]; // dL/da_t from later steps
        for (int t = steps - 1; t >= 0; t--) {
            final double[] v = tr.v[t];
            final double[] sPrev = t == 0 ? initialSpikeValues() : tr.sv[t - 1];
            final boolean[] hPrev = t == 0 ? h0 : tr.h[t - 1];
            final double[] newLamV = lamV.clone();
            final double[] newLamS = lamS.clone();
            final double[] newLamA = lamA.clone();
            for (int b = 0; b < batch; b++) {
                if (t >= lengths[b]) {
                    continue;
                }
                final double[] dvTop = new double[n];
                final int target = targets[t * batch + b];
                if (target >= 0) {
                    final double[] z = logits(p, v, b);
                    final double lse = logSumExp(z);
                    final int top = ((layers - 1) * batch + b) * n;
                    for (int k = 0; k < z.length; k++) {
                        final double dz = (Math.exp(z[k] - lse) - (k == target ? 1 : 0)) / total;
                        g[idx("readout.bias", 0, k)] += dz;
                        for (int i = 0; i < n; i++) {
                            g[idx("readout.w", k, i)] += dz * v[top + i];
                            dvTop[i] += dz * w(p, "readout.w", k, i);
                        }
                    }
                }
                double[] dsFromAbove = new double[n];
                for (int l = layers - 1; l >= 0; l--) {
                    final int p0 = (l * batch + b) * n;
                    final double[] dA = new double[n];
                    final double[] da = new double[n];
                    final double[] u = tr.u[t];
                    for (int i = 0; i < n; i++) {
                        final double ds = lamS[p0 + i] + dsFromAbove[i];
                        final double psi = fPrime(u[p0 + i]);
                        final double dv = lamV[p0 + i] + (l == layers - 1 ? dvTop[i] : 0) + ds * psi;
                        dA[i] = drive * dv;
                        newLamV[p0 + i] = s.alpha() * dv * (hPrev[p0 + i] ? 0 : 1);
                        da[i] = lamA[p0 + i] - s.adaptation() * ds * psi;
                        newLamA[p0 + i] = s.adaptive() ? s.adaptationDecay() * da[i] : 0;
                    }
                    final double[] below = new double[n];
                    for (int i = 0; i < n; i++) {
                        g[idx("layer" + l + ".bias", 0, i)] += dA[i];
                        if (l == 0) {
                            for (int j = 0; j < s.inputDimension(); j++) {
                                g[idx("layer0.w_in", j, i)] += x[t * batch + b][j] * dA[i];
                            }
                        } else {
                            final int q0 = ((l - 1) * batch + b) * n;
                            for (int j = 0; j < n; j++) {
                                g[idx("layer" + l + ".w_in", j, i)] += tr.sv[t][q0 + j] * dA[i];
                                below[j] += w(p, "layer" + l + ".w_in", j, i) * dA[i];
                            }
                        }
                        for (int j = 0; j < n; j++) {
                            g[idx("layer" + l + ".w_rec", j, i)] += sPrev[p0 + j] * dA[i];
                        }
                    }
                    for (int j = 0; j < n; j++) {
                        double r = 0;
                        for (int i = 0; i < n; i++) {
                            r += w(p, "layer" + l + ".w_rec", j, i) * dA[i];
                        }
                        newLamS[p0 + j] = r + (s.adaptive() ? da[j] : 0); // a_t = rho a_{t-1} + S_{t-1}
                    }
                    dsFromAbove = below;
                }
            }
            lamV = newLamV;
            lamS = newLamS;
            lamA = newLamA;
        }
        return g;
    }

    private double[] initialSpikeValues() {
        final double[] r = new double[v0.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = smooth ? f(v0[i] - s.theta()) : (h0[i] ? 1 : 0);
        }
        return r;
    }
}
