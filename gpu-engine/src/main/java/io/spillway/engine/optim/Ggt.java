package io.spillway.engine.optim;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.backend.WindowKernels;
import io.spillway.engine.internals.StateChecks;
import io.spillway.engine.memory.MemoryAccountant;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import io.spillway.engine.optim.internals.SymmetricEigen;

/**
 * GGT (Agarwal et al. 2019) as EFCP uses it (docs/spec-efcp-mfac.md §2.4): the preconditioner
 * {@code ((W W^T)^(1/2) + eps I)^-1} of the last m gradients W, applied in coefficient form — an m x m
 * eigendecomposition of the window's Gram matrix plus the window's two kernels, never a d x m dense
 * matrix: {@code u = v / eps + W a} with {@code a = V diag(sigma^-2) (1/(sigma + eps) - 1/eps) V^T (W^T v)}.
 * The sparse variant keeps Top-K compressed gradients with error feedback in the window and steps on the
 * compressed vector (no momentum, as EFCP ran it). Not thread-safe.
 */
public final class Ggt implements Optimizer {
    /** The regulariser added to W^T W before the eigendecomposition (as the reference). */
    static final double REGULARISER = 1e-6;

    private final float learningRate;
    private final int window;
    private final double epsilon;
    private final double density;
    private final boolean sparse;
    private final MemoryAccountant accountant;
    private final WindowKernels kernels;
    private final MFac window0;
    private long steps;

    public Ggt(final float learningRate, final int window, final double epsilon, final double density,
               final boolean sparse, final MemoryAccountant accountant) {
        this(learningRate, window, epsilon, density, sparse, accountant, WindowKernels.JAVA);
    }

    /** @param kernels the sparse window's kernels: the learner's backend's */
    public Ggt(final float learningRate, final int window, final double epsilon, final double density,
               final boolean sparse, final MemoryAccountant accountant, final WindowKernels kernels) {
        if (!(learningRate > 0) || window <= 0 || !(epsilon > 0)) {
            throw new IllegalArgumentException("bad GGT settings: lr=" + learningRate + " m=" + window + " eps=" + epsilon);
        }
        this.learningRate = learningRate;
        this.window = window;
        this.epsilon = epsilon;
        this.density = density;
        this.sparse = sparse;
        this.accountant = accountant;
        this.kernels = kernels;
        // The M-FAC machinery holds the (compressed) window and its Gram matrix; GGT only reads them.
        this.window0 = new MFac(sparse ? MFacSettings.sparse(learningRate, window, 1.0, density)
                : MFacSettings.dense(learningRate, window, 1.0), accountant, sparse, kernels);
    }

    @Override
    public void initialise(final int dimension) {
        window0.initialise(dimension);
        steps = 0;
    }

    @Override
    public void step(final float[] params, final float[] gradient) {
        // Insert the (compressed) gradient; MFac leaves the vector it inserted in lastUpdate's input x.
        final double[] v = window0.insertOnly(gradient);
        final int m = window;
        final double[] wv = new double[m];
        window0.window().dots(v, wv);
        final double[][] k = new double[m][m];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                k[i][j] = window0.algebra().gram(i, j) + (i == j ? REGULARISER : 0);
            }
        }
        final double[] sigma2 = new double[m];
        final double[][] vec = SymmetricEigen.decompose(k, sigma2);
        final double[] coef = new double[m];
        for (int j = 0; j < m; j++) {
            double proj = 0;
            for (int i = 0; i < m; i++) {
                proj += vec[i][j] * wv[i];
            }
            final double s2 = Math.max(sigma2[j], REGULARISER);
            final double s = Math.sqrt(s2);
            coef[j] = proj * (1 / (s + epsilon) - 1 / epsilon) / s2;
        }
        final double[] a = new double[m];
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int j = 0; j < m; j++) {
                sum += vec[i][j] * coef[j];
            }
            a[i] = sum;
        }
        final double[] u = new double[params.length];
        for (int i = 0; i < u.length; i++) {
            u[i] = v[i] / epsilon;
        }
        window0.window().addCombination(a, u);
        for (int i = 0; i < params.length; i++) {
            params[i] -= (float) (learningRate * u[i]);
        }
        lastUpdate = u;
        window0.finishInsert();
        steps++;
    }

    private double[] lastUpdate;

    /** The last preconditioned vector (for tests). */
    double[] lastUpdate() {
        return lastUpdate;
    }

    @Override
    public String describe() {
        return (sparse ? "ggt-sparse" : "ggt") + "(lr=" + learningRate + ", m=" + window + ", eps=" + epsilon
                + (sparse ? ", density=" + density : "") + ")";
    }

    @Override
    public long stateBytes() {
        return window0.stateBytes();
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        out.writeLong(steps);
        window0.writeState(out);
    }

    /** Restores what {@link #writeState} wrote; see {@link MFac#readState} for what is refused. */
    @Override
    public void readState(final DataInput in) throws IOException {
        steps = StateChecks.readNonNegative(in, "GGT step count");
        window0.readState(in);
        if (window0.steps() != steps) {
            throw new InvalidStateException("GGT counts " + steps + " steps, its window " + window0.steps());
        }
    }

    @Override
    public void reset() {
        window0.reset();
        steps = 0;
    }

    @Override
    public Optimizer copy() {
        return new Ggt(learningRate, window, epsilon, density, sparse, accountant, kernels);
    }
}
