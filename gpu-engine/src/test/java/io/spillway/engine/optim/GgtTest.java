package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.optim.internals.SymmetricEigen;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** GGT's coefficient form against a d x d eigendecomposition (docs/spec-efcp-mfac.md §5 check 16). */
class GgtTest {

    @Test
    void coefficientFormEqualsTheDenseMatrixRoot() {
        final int d = 30;
        final int m = 5;
        // The reference's 1e-6 regulariser of W^T W shifts the result by about 1e-6 |v| / (eps |g|^2): with
        // eps = 0.1 that stays under the spec's 1e-5.
        final double eps = 0.1;
        final Ggt opt = new Ggt(0.1f, m, eps, 1.0, false, null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(12);
        final List<float[]> history = new ArrayList<>();
        for (int t = 0; t < 2 * m + 2; t++) {
            final float[] g = new float[d];
            for (int j = 0; j < d; j++) {
                g[j] = (float) r.nextGaussian();
            }
            history.add(g.clone());
            opt.step(new float[d], g);
            final List<float[]> window = history.subList(Math.max(0, history.size() - m), history.size());
            final double[][] mm = new double[d][d];
            for (final float[] w : window) {
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        mm[i][j] += (double) w[i] * w[j];
                    }
                }
            }
            final double[] values = new double[d];
            final double[][] vectors = SymmetricEigen.decompose(mm, values);
            final float[] v = history.get(t);
            final double[] expected = new double[d];
            for (int k = 0; k < d; k++) {
                double proj = 0;
                for (int i = 0; i < d; i++) {
                    proj += vectors[i][k] * v[i];
                }
                final double scale = proj / (Math.sqrt(Math.max(values[k], 0)) + eps);
                for (int i = 0; i < d; i++) {
                    expected[i] += scale * vectors[i][k];
                }
            }
            assertThat(MFacTest.relError(opt.lastUpdate(), expected)).as("t=%d", t).isLessThan(1e-5);
        }
    }

    @Test
    void sparseGgtStepsOnlyInsideTheWindowsSupportPlusTheCompressedGradient() {
        final int d = 400;
        final Ggt opt = new Ggt(0.1f, 8, 1e-2, 0.02, true, null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(13);
        final float[] params = new float[d];
        final float[] g = new float[d];
        for (int j = 0; j < d; j++) {
            g[j] = (float) r.nextGaussian();
        }
        opt.step(params, g);
        long changed = 0;
        for (final float p : params) {
            if (p != 0) {
                changed++;
            }
        }
        assertThat(changed).isEqualTo(8); // k = 2% of 400, one row in the window
        assertThat(opt.describe()).startsWith("ggt-sparse");
    }
}
