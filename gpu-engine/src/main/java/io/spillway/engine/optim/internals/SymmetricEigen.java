package io.spillway.engine.optim.internals;

/**
 * Eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations, in fp64: accurate to
 * rounding for the m x m Gram matrices of the GGT window (m up to a few hundred). Deterministic.
 */
public final class SymmetricEigen {
    private SymmetricEigen() {
    }

    /**
     * @param a symmetric n x n, not modified
     * @param values receives the n eigenvalues
     * @return the eigenvectors as columns: {@code vectors[i][j]} is component i of vector j
     */
    public static double[][] decompose(final double[][] a, final double[] values) {
        final int n = a.length;
        final double[][] m = new double[n][];
        final double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            m[i] = a[i].clone();
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double diag = 0;
            for (int i = 0; i < n; i++) {
                diag += m[i][i] * m[i][i];
                for (int j = i + 1; j < n; j++) {
                    off += m[i][j] * m[i][j];
                }
            }
            if (off <= 1e-30 * Math.max(diag, 1e-300)) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (m[p][q] == 0) {
                        continue;
                    }
                    final double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
                    final double t = Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    final double c = 1 / Math.sqrt(t * t + 1);
                    final double s = t * c;
                    for (int k = 0; k < n; k++) {
                        final double mkp = m[k][p];
                        final double mkq = m[k][q];
                        m[k][p] = c * mkp - s * mkq;
                        m[k][q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) {
                        final double mpk = m[p][k];
                        final double mqk = m[q][k];
                        m[p][k] = c * mpk - s * mqk;
                        m[q][k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++) {
                        final double vkp = v[k][p];
                        final double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            values[i] = m[i][i];
        }
        return v;
    }
}
