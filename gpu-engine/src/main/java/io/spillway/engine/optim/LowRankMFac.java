package io.spillway.engine.optim;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.internals.StateChecks;
import io.spillway.engine.optim.internals.WindowAlgebra;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Low-rank M-FAC with error feedback (LR-MFAC, docs/spec-efcp-mfac.md §2.3). The flattened parameter vector is a
 * list of tensors; each 2-D tensor's accumulated gradient {@code e += g} is compressed to rank r by one
 * warm-started power-iteration step ({@code P = M Q}, orthonormalise P, {@code Q = M^T P},
 * {@code M^ = P Q^T}, {@code e -= M^}); 1-D tensors (biases) are kept whole. The window holds the factors
 * (r (rows + cols) floats per matrix instead of rows x cols); Gram entries of two slots are
 * {@code sum over tensors of sum((P_i^T P_j) .* (Q_i^T Q_j))}, one global m x m system as in the reference;
 * the update is {@code (M^ - sum_i y_i P_i Q_i^T) / lambda} per tensor. Q starts from a seeded normal draw,
 * so runs are reproducible (the reference's unseeded start is a pitfall the spec lists in §2.6). Not thread-safe.
 */
public final class LowRankMFac implements Optimizer {
    private final float learningRate;
    private final int window;
    private final double damping;
    private final int rank;
    private final List<int[]> shapes;
    private final long seed;
    private WindowAlgebra algebra;
    private double[] error;
    private double[][] q;          // per tensor: cols x r, warm-started
    private double[][][] p;        // per slot, per tensor: rows x r (1-D tensors: the vector itself)
    private double[][][] qs;       // per slot, per tensor: cols x r (1-D: empty)
    private int dimension = -1;
    private int slot;
    private long steps;

    /**
     * @param shapes {rows, cols} of each tensor in the flattened order (cols = 1 for a vector); they must
     *     cover the whole parameter vector
     */
    public LowRankMFac(final float learningRate, final int window, final double damping, final int rank,
                       final List<int[]> shapes, final long seed) {
        if (!(learningRate > 0) || window <= 0 || !(damping > 0) || rank <= 0 || shapes.isEmpty()) {
            throw new IllegalArgumentException("bad low-rank M-FAC settings: lr=" + learningRate + " m=" + window
                    + " lambda=" + damping + " rank=" + rank + " tensors=" + shapes.size());
        }
        this.learningRate = learningRate;
        this.window = window;
        this.damping = damping;
        this.rank = rank;
        this.shapes = List.copyOf(shapes);
        this.seed = seed;
    }

    private boolean matrix(final int t) {
        return shapes.get(t)[0] > 1 && shapes.get(t)[1] > 1;
    }

    @Override
    public void initialise(final int d) {
        final long total = shapes.stream().mapToLong(s -> (long) s[0] * s[1]).sum();
        if (total != d) {
            throw new IllegalArgumentException("tensor shapes cover " + total + " parameters, not " + d);
        }
        dimension = d;
        algebra = new WindowAlgebra(window, damping, false);
        error = new double[d];
        q = new double[shapes.size()][];
        final SplittableRandom r = new SplittableRandom(seed);
        for (int t = 0; t < shapes.size(); t++) {
            if (matrix(t)) {
                q[t] = new double[shapes.get(t)[1] * rank];
                for (int i = 0; i < q[t].length; i++) {
                    q[t][i] = r.nextGaussian();
                }
            }
        }
        p = new double[window][shapes.size()][];
        qs = new double[window][shapes.size()][];
        for (int s = 0; s < window; s++) {
            for (int t = 0; t < shapes.size(); t++) {
                final int rows = shapes.get(t)[0];
                final int cols = shapes.get(t)[1];
                p[s][t] = new double[matrix(t) ? rows * rank : rows * cols];
                qs[s][t] = new double[matrix(t) ? cols * rank : 0];
            }
        }
        slot = 0;
        steps = 0;
    }

    @Override
    public void step(final float[] params, final float[] gradient) {
        Adam.checkShapes(dimension, params, gradient);
        for (int i = 0; i < dimension; i++) {
            error[i] += gradient[i];
        }
        int offset = 0;
        for (int t = 0; t < shapes.size(); t++) {
            final int rows = shapes.get(t)[0];
            final int cols = shapes.get(t)[1];
            if (matrix(t)) {
                compress(t, offset, rows, cols);
            } else {
                System.arraycopy(error, offset, p[slot][t], 0, rows * cols);
                java.util.Arrays.fill(error, offset, offset + rows * cols, 0);
            }
            offset += rows * cols;
        }
        final double[] s = new double[window];
        for (int j = 0; j < window; j++) {
            s[j] = inner(slot, j);
        }
        algebra.insert(slot, s);
        final double[] y = algebra.solve(s);
        offset = 0;
        final double inv = 1.0 / damping;
        for (int t = 0; t < shapes.size(); t++) {
            final int rows = shapes.get(t)[0];
            final int cols = shapes.get(t)[1];
            for (int a = 0; a < rows; a++) {
                for (int b = 0; b < cols; b++) {
                    double u = entry(slot, t, a, b, cols);
                    for (int j = 0; j < window; j++) {
                        if (y[j] != 0) {
                            u -= y[j] * entry(j, t, a, b, cols);
                        }
                    }
                    params[offset + a * cols + b] -= (float) (learningRate * u * inv);
                }
            }
            offset += rows * cols;
        }
        slot = (slot + 1) % window;
        steps++;
    }

    /** One power-iteration step on e's matrix of tensor t; stores (P, Q) in the slot, removes P Q^T from e. */
    private void compress(final int t, final int offset, final int rows, final int cols) {
        final double[] pt = p[slot][t];
        final double[] qt = q[t];
        for (int a = 0; a < rows; a++) {
            for (int k = 0; k < rank; k++) {
                double sum = 0;
                for (int b = 0; b < cols; b++) {
                    sum += error[offset + a * cols + b] * qt[b * rank + k];
                }
                pt[a * rank + k] = sum;
            }
        }
        // Gram-Schmidt on P's columns (a zero column stays zero).
        for (int k = 0; k < rank; k++) {
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int a = 0; a < rows; a++) {
                    dot += pt[a * rank + k] * pt[a * rank + j];
                }
                for (int a = 0; a < rows; a++) {
                    pt[a * rank + k] -= dot * pt[a * rank + j];
                }
            }
            double norm = 0;
            for (int a = 0; a < rows; a++) {
                norm += pt[a * rank + k] * pt[a * rank + k];
            }
            norm = Math.sqrt(norm);
            for (int a = 0; a < rows; a++) {
                pt[a * rank + k] = norm > 1e-30 ? pt[a * rank + k] / norm : 0;
            }
        }
        for (int b = 0; b < cols; b++) {
            for (int k = 0; k < rank; k++) {
                double sum = 0;
                for (int a = 0; a < rows; a++) {
                    sum += error[offset + a * cols + b] * pt[a * rank + k];
                }
                qt[b * rank + k] = sum;
            }
        }
        System.arraycopy(qt, 0, qs[slot][t], 0, qt.length);
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < cols; b++) {
                error[offset + a * cols + b] -= entry(slot, t, a, b, cols);
            }
        }
    }

    /** Entry (a, b) of slot s's stored tensor t: (P Q^T)[a][b], or the stored vector. */
    private double entry(final int s, final int t, final int a, final int b, final int cols) {
        if (!matrix(t)) {
            return p[s][t][a * cols + b];
        }
        double sum = 0;
        for (int k = 0; k < rank; k++) {
            sum += p[s][t][a * rank + k] * qs[s][t][b * rank + k];
        }
        return sum;
    }

    /** Frobenius inner product of two slots over all tensors, through the factors. */
    private double inner(final int i, final int j) {
        double total = 0;
        for (int t = 0; t < shapes.size(); t++) {
            if (!matrix(t)) {
                final double[] a = p[i][t];
                final double[] b = p[j][t];
                for (int x = 0; x < a.length; x++) {
                    total += a[x] * b[x];
                }
                continue;
            }
            final int rows = shapes.get(t)[0];
            final int cols = shapes.get(t)[1];
            for (int k = 0; k < rank; k++) {
                for (int l = 0; l < rank; l++) {
                    double pp = 0;
                    for (int a = 0; a < rows; a++) {
                        pp += p[i][t][a * rank + k] * p[j][t][a * rank + l];
                    }
                    if (pp == 0) {
                        continue;
                    }
                    double qq = 0;
                    for (int b = 0; b < cols; b++) {
                        qq += qs[i][t][b * rank + k] * qs[j][t][b * rank + l];
                    }
                    total += pp * qq;
                }
            }
        }
        return total;
    }

    /** The error-feedback buffer (for tests). */
    double[] errorBuffer() {
        return error;
    }

    @Override
    public String describe() {
        return "mfac-lowrank(lr=" + learningRate + ", m=" + window + ", lambda=" + damping + ", rank=" + rank + ")";
    }

    @Override
    public long stateBytes() {
        if (p == null) {
            return 0;
        }
        long floats = 0;
        for (int t = 0; t < shapes.size(); t++) {
            floats += (long) p[0][t].length + qs[0][t].length;
        }
        return window * floats * Double.BYTES + (long) dimension * Double.BYTES + algebra.bytes();
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(dimension);
        out.writeUTF(describe());
        out.writeLong(steps);
        out.writeInt(slot);
        algebra.writeState(out);
        for (final double e : error) {
            out.writeDouble(e);
        }
        for (final double[] qt : q) {
            if (qt != null) {
                for (final double v : qt) {
                    out.writeDouble(v);
                }
            }
        }
        for (final double[][] s : p) {
            for (final double[] a : s) {
                for (final double v : a) {
                    out.writeDouble(v);
                }
            }
        }
        for (final double[][] s : qs) {
            for (final double[] a : s) {
                for (final double v : a) {
                    out.writeDouble(v);
                }
            }
        }
    }

    /**
     * Restores what {@link #writeState} wrote, refusing with an {@link InvalidStateException} a ring slot that does
     * not follow from the step count, values that are not finite and a Gram matrix that is not the factors'.
     */
    @Override
    public void readState(final DataInput in) throws IOException {
        final int d = in.readInt();
        final String kind = in.readUTF();
        if (d != dimension || !kind.equals(describe())) {
            throw new StateMismatchException("optimizer state of " + kind + " for dimension " + d + " does not fit "
                    + describe());
        }
        steps = StateChecks.readNonNegative(in, "low-rank M-FAC step count");
        slot = StateChecks.readIndex(in, window, "low-rank M-FAC ring slot");
        if (slot != steps % window) {
            throw new InvalidStateException("low-rank M-FAC ring slot is " + slot + ", but " + steps
                    + " steps put it at " + steps % window);
        }
        algebra.readState(in);
        if (algebra.inserted() != steps) {
            throw new InvalidStateException("low-rank M-FAC Gram matrix counts " + algebra.inserted()
                    + " gradients, the optimizer " + steps + " steps");
        }
        StateChecks.readFinite(in, error, "low-rank M-FAC error feedback");
        for (int t = 0; t < q.length; t++) {
            if (q[t] != null) {
                StateChecks.readFinite(in, q[t], "low-rank M-FAC warm start of tensor " + t);
            }
        }
        for (final double[][][] store : new double[][][][] {p, qs}) {
            for (int s = 0; s < window; s++) {
                for (int t = 0; t < shapes.size(); t++) {
                    StateChecks.readFinite(in, store[s][t], "low-rank M-FAC factor of slot " + s + ", tensor " + t);
                }
            }
        }
        final double[][] dots = new double[window][window];
        for (int i = 0; i < window; i++) {
            for (int j = 0; j <= i; j++) {
                dots[i][j] = inner(i, j);
                dots[j][i] = dots[i][j];
            }
        }
        algebra.requireGramOf(dots);
    }

    @Override
    public void reset() {
        if (dimension > 0) {
            initialise(dimension);
        }
    }

    @Override
    public Optimizer copy() {
        return new LowRankMFac(learningRate, window, damping, rank, shapes, seed);
    }
}
