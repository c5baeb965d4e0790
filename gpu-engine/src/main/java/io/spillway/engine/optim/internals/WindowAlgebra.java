package io.spillway.engine.optim.internals;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The m x m side of M-FAC in fp64 (docs/spec-efcp-mfac.md §1.1 and §1.3, Cholesky form): the Gram matrix
 * K = G G^T of the window, kept up to date one row and column per insert, and the solve
 * {@code y = (n lambda I + K)^-1 (G x)} with n = m (or min(t, m) with {@code fixScaling}), so that
 * {@code IHVP(x) = (x - G^T y) / lambda}. Rows not yet written are zero and only add {@code n lambda} on
 * the diagonal, which leaves their y at 0.
 */
public final class WindowAlgebra {
    /** Relative difference allowed between a stored Gram entry and the one recomputed from the rows. */
    private static final double GRAM_TOLERANCE = 1e-7;
    private final int m;
    private final double[][] k;
    private final double[][] chol;
    private final double[] work;
    private final boolean fixScaling;
    private double lambda;
    private long inserted;
    /** First row of the Cholesky factor that is stale; m when the factor is current. */
    private int dirtyFrom;
    private double factoredShift = Double.NaN;

    public WindowAlgebra(final int m, final double lambda, final boolean fixScaling) {
        if (m <= 0 || !(lambda > 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException("bad window algebra: m=" + m + " lambda=" + lambda);
        }
        this.m = m;
        this.k = new double[m][m];
        this.chol = new double[m][m];
        this.work = new double[m];
        this.lambda = lambda;
        this.fixScaling = fixScaling;
    }

    /** Row {@code slot} of the window changed; {@code s} holds its dots with every row (its own included). */
    public void insert(final int slot, final double[] s) {
        for (int r = 0; r < m; r++) {
            k[slot][r] = s[r];
            k[r][slot] = s[r];
        }
        inserted++;
        dirtyFrom = Math.min(dirtyFrom, slot);
    }

    /** The scale n of {@code lambda I + (1/n) sum g g^T}: m, or min(inserted, m) with fix-scaling. */
    public double scale() {
        return fixScaling ? Math.max(1, Math.min(inserted, m)) : m;
    }

    /**
     * {@code y = (n lambda I + K)^-1 gx} by Cholesky, all in fp64. Row i of the factor depends only on the
     * leading i x i block, so after a slot changes only the rows from that slot on are refactored: the
     * result is bitwise that of a full factorization, at a fraction of the m^3/3 cost on average.
     */
    public double[] solve(final double[] gx) {
        final double shift = scale() * lambda;
        if (shift != factoredShift) {
            dirtyFrom = 0;
            factoredShift = shift;
        }
        for (int i = dirtyFrom; i < m; i++) {
            final double[] ci = chol[i];
            final double[] ki = k[i];
            for (int j = 0; j <= i; j++) {
                double sum = ki[j] + (i == j ? shift : 0);
                final double[] cj = chol[j];
                for (int p = 0; p < j; p++) {
                    sum -= ci[p] * cj[p];
                }
                if (i == j) {
                    if (!(sum > 0)) {
                        throw new ArithmeticException("M-FAC system not positive definite at " + i + " (pivot " + sum
                                + "); damping " + lambda + " too small or the window holds non-finite values");
                    }
                    ci[i] = Math.sqrt(sum);
                } else {
                    ci[j] = sum / cj[j];
                }
            }
        }
        dirtyFrom = m;
        final double[] y = new double[m];
        for (int i = 0; i < m; i++) {
            double sum = gx[i];
            for (int p = 0; p < i; p++) {
                sum -= chol[i][p] * work[p];
            }
            work[i] = sum / chol[i][i];
        }
        for (int i = m - 1; i >= 0; i--) {
            double sum = work[i];
            for (int p = i + 1; p < m; p++) {
                sum -= chol[p][i] * y[p];
            }
            y[i] = sum / chol[i][i];
        }
        return y;
    }

    public double lambda() {
        return lambda;
    }

    public void setLambda(final double lambda) {
        this.lambda = lambda;
        dirtyFrom = 0;
    }

    /** Forgets the factor, so the next solve factors in full (for tests). */
    public void invalidateFactor() {
        dirtyFrom = 0;
    }

    /** The Gram matrix entry (for tests). */
    public double gram(final int i, final int j) {
        return k[i][j];
    }

    public long inserted() {
        return inserted;
    }

    /** Bytes of K and the factor. */
    public long bytes() {
        return 2L * m * m * Double.BYTES;
    }

    public void writeState(final DataOutput out) throws IOException {
        out.writeLong(inserted);
        out.writeDouble(lambda);
        for (final double[] row : k) {
            for (final double v : row) {
                out.writeDouble(v);
            }
        }
    }

    /**
     * Restores what {@link #writeState} wrote, refusing a damaged state: a negative count, a damping that is not
     * finite and positive, a Gram matrix that is not finite, symmetric with a non-negative diagonal, or whose
     * system {@code n lambda I + K} cannot be factored.
     */
    public void readState(final DataInput in) throws IOException {
        dirtyFrom = 0;
        factoredShift = Double.NaN;
        inserted = StateChecks.readNonNegative(in, "M-FAC inserted-gradient count");
        final double damping = StateChecks.readFiniteDouble(in, "M-FAC damping");
        if (!(damping > 0)) {
            throw new InvalidStateException("M-FAC damping is not positive: " + damping);
        }
        lambda = damping;
        for (final double[] row : k) {
            for (int j = 0; j < m; j++) {
                row[j] = in.readDouble();
            }
        }
        for (int i = 0; i < m; i++) {
            if (!(k[i][i] >= 0) || Double.isInfinite(k[i][i])) {
                throw new InvalidStateException("M-FAC Gram matrix diagonal[" + i + "] is not a finite square: "
                        + k[i][i]);
            }
            for (int j = 0; j < i; j++) {
                if (!Double.isFinite(k[i][j]) || k[i][j] != k[j][i]) {
                    throw new InvalidStateException("M-FAC Gram matrix entry (" + i + ", " + j + ") is " + k[i][j]
                            + " and (" + j + ", " + i + ") is " + k[j][i] + ": not finite and symmetric");
                }
            }
        }
        try {
            solve(new double[m]);
        } catch (final ArithmeticException e) {
            throw new InvalidStateException("M-FAC Gram matrix cannot be factored: " + e.getMessage(), e);
        }
        dirtyFrom = 0; // the next solve factors in full, as after any restore
    }

    /**
     * Requires the Gram matrix to be that of the window's rows: {@code dots[i][j]} is the dot product of rows i
     * and j recomputed from the rows. The two may differ by rounding (another summation order), not more.
     */
    public void requireGramOf(final double[][] dots) throws InvalidStateException {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j <= i; j++) {
                if (!Double.isFinite(dots[i][j])) {
                    throw new InvalidStateException("M-FAC window rows " + i + " and " + j + " have a dot product "
                            + "beyond the fp64 range");
                }
                final double scale = Math.sqrt(dots[i][i]) * Math.sqrt(dots[j][j]);
                if (!(Math.abs(k[i][j] - dots[i][j]) <= GRAM_TOLERANCE * scale)) {
                    throw new InvalidStateException("M-FAC Gram matrix entry (" + i + ", " + j + ") is " + k[i][j]
                            + ", but the window's rows give " + dots[i][j]);
                }
            }
        }
    }

    public void reset() {
        for (final double[] row : k) {
            java.util.Arrays.fill(row, 0);
        }
        inserted = 0;
        dirtyFrom = 0;
    }
}
