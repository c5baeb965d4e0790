package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import io.spillway.engine.optim.internals.BlockLayout;
import io.spillway.engine.optim.internals.IndexEncoding;
import io.spillway.engine.optim.internals.SparseWindow;
import io.spillway.engine.optim.internals.ValueEncoding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The acceptance checks (§5) and golden vectors (§5.1) of docs/spec-efcp-mfac.md for dense and sparse M-FAC. */
class MFacTest {

    /** The spec's gradient generator: g_t[j] = sin(0.7 (t+1)(j+1)) + 0.1 cos(j + t). */
    static float[] golden(final int t, final int d) {
        final float[] g = new float[d];
        for (int j = 0; j < d; j++) {
            g[j] = (float) (Math.sin(0.7 * (t + 1) * (j + 1)) + 0.1 * Math.cos(j + t));
        }
        return g;
    }

    private static float[] random(final SplittableRandom r, final int d) {
        final float[] g = new float[d];
        for (int j = 0; j < d; j++) {
            g[j] = (float) r.nextGaussian();
        }
        return g;
    }

    /** u = (lambda I + (1/n) sum_rows g g^T)^-1 x by Gaussian elimination with pivoting, in fp64. */
    static double[] denseSolve(final List<float[]> rows, final double n, final double lambda, final float[] x) {
        final int d = x.length;
        final double[][] a = new double[d][d + 1];
        for (int i = 0; i < d; i++) {
            a[i][i] = lambda;
            a[i][d] = x[i];
        }
        for (final float[] g : rows) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    a[i][j] += (double) g[i] * g[j] / n;
                }
            }
        }
        for (int c = 0; c < d; c++) {
            int p = c;
            for (int i = c + 1; i < d; i++) {
                if (Math.abs(a[i][c]) > Math.abs(a[p][c])) {
                    p = i;
                }
            }
            final double[] t = a[c];
            a[c] = a[p];
            a[p] = t;
            for (int i = c + 1; i < d; i++) {
                final double f = a[i][c] / a[c][c];
                for (int j = c; j <= d; j++) {
                    a[i][j] -= f * a[c][j];
                }
            }
        }
        final double[] u = new double[d];
        for (int i = d - 1; i >= 0; i--) {
            double s = a[i][d];
            for (int j = i + 1; j < d; j++) {
                s -= a[i][j] * u[j];
            }
            u[i] = s / a[i][i];
        }
        return u;
    }

    static double relError(final double[] a, final double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    @ParameterizedTest(name = "lambda={0}")
    @ValueSource(doubles = {1e-1, 1e-3, 1e-5})
    void ihvpEqualsADenseSolveThroughWarmUpAndWraparound(final double lambda) {
        final int d = 60;
        final int m = 8;
        final MFac opt = new MFac(MFacSettings.dense(0.01f, m, lambda), null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(1);
        final List<float[]> history = new ArrayList<>();
        for (int t = 0; t < 3 * m + 3; t++) {
            final float[] g = random(r, d);
            history.add(g.clone());
            opt.step(new float[d], g);
            // Warm-up: the reference is lambda I + (1/m) sum over the gradients so far (not 1/t).
            final List<float[]> window = history.subList(Math.max(0, history.size() - m), history.size());
            final double[] expected = denseSolve(window, m, lambda, history.get(t));
            assertThat(relError(opt.lastUpdate(), expected)).as("t=%d", t).isLessThan(1e-9);
        }
    }

    @Test
    void fixScalingUsesTheNumberOfGradientsSoFar() {
        final int d = 30;
        final int m = 6;
        final MFac opt = new MFac(MFacSettings.dense(0.01f, m, 1e-2).withFixScaling(true), null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(2);
        final List<float[]> history = new ArrayList<>();
        for (int t = 0; t < 2 * m; t++) {
            final float[] g = random(r, d);
            history.add(g.clone());
            opt.step(new float[d], g);
            final List<float[]> window = history.subList(Math.max(0, history.size() - m), history.size());
            assertThat(relError(opt.lastUpdate(), denseSolve(window, Math.min(t + 1, m), 1e-2, history.get(t))))
                    .isLessThan(1e-9);
        }
    }

    @ParameterizedTest(name = "lambda={0}")
    @ValueSource(doubles = {1e-3, 1e-5, 1e-7})
    void correlatedGradientsStayAccurateWithFp64Algebra(final double lambda) {
        final int d = 200;
        final int m = 32;
        final SplittableRandom r = new SplittableRandom(3);
        final float[] common = random(r, d);
        final MFac opt = new MFac(MFacSettings.dense(0.01f, m, lambda), null);
        opt.initialise(d);
        final List<float[]> history = new ArrayList<>();
        for (int t = 0; t < m; t++) {
            final float[] g = new float[d];
            for (int j = 0; j < d; j++) {
                g[j] = common[j] + 0.01f * (float) r.nextGaussian();
            }
            history.add(g.clone());
            opt.step(new float[d], g);
        }
        assertThat(relError(opt.lastUpdate(), denseSolve(history, m, lambda, history.get(m - 1)))).isLessThan(1e-6);
    }

    /** The M-FAC chain (Sherman-Morrison in slot order, docs/spec-efcp-mfac.md §1.3) agrees with the Cholesky form. */
    @Test
    void shermanMorrisonChainAgreesWithTheCholeskyForm() {
        final int d = 60;
        final int m = 8;
        final double lambda = 1e-3;
        final MFac opt = new MFac(MFacSettings.dense(0.01f, m, lambda), null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(4);
        final float[][] slots = new float[m][];
        for (int t = 0; t < 2 * m + 3; t++) {
            final float[] g = random(r, d);
            slots[t % m] = g.clone();
            opt.step(new float[d], g);
            // F_0 = lambda I, F_i = F_{i-1} + g_i g_i^T / m in slot order; x / lambda minus the chain terms.
            final List<double[]> fInvG = new ArrayList<>();
            final double[] u = new double[d];
            for (int j = 0; j < d; j++) {
                u[j] = slots[t % m][j] / lambda;
            }
            for (int i = 0; i < m; i++) {
                if (slots[i] == null) {
                    continue;
                }
                final double[] v = new double[d];
                for (int j = 0; j < d; j++) {
                    v[j] = slots[i][j] / lambda;
                }
                for (final double[] w : fInvG) {
                    final double gw = dot(slots[i], w);
                    final double denom = m + dot(w, slotsOf(w, fInvG, slots));
                    for (int j = 0; j < d; j++) {
                        v[j] -= gw / denom * w[j];
                    }
                }
                fInvG.add(v);
                final double coef = dot(slots[t % m], v) / (m + dot(slots[i], v));
                for (int j = 0; j < d; j++) {
                    u[j] -= coef * v[j];
                }
            }
            assertThat(relError(opt.lastUpdate(), u)).isLessThan(1e-9);
        }
    }

    private static double[] slotsOf(final double[] w, final List<double[]> fInvG, final float[][] slots) {
        int idx = fInvG.indexOf(w);
        int seen = -1;
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null && ++seen == idx) {
                final double[] g = new double[slots[i].length];
                for (int j = 0; j < g.length; j++) {
                    g[j] = slots[i][j];
                }
                return g;
            }
        }
        throw new IllegalStateException();
    }

    private static double dot(final float[] a, final double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double dot(final double[] a, final double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void goldenVectorsR1DenseMFac() {
        final double[][] expected = {
            {1.7058296094, 0.5878203105, 0.8210332053, 0.6489365275},
            {1.5488198632, 0.6330221793, 0.1415641014, -0.6588808887},
            {1.6287884243, 0.4404067354, -0.7633495410, 0.0545959802},
            {1.6965790722, 0.0963533826, -0.5423788636, 0.6931307790},
            {1.9977703303, -0.7186276844, 0.4346187918, -0.2264476898},
            {1.3309957685, -0.2932388809, 0.1387121851, 0.3806779641}};
        final MFac opt = new MFac(MFacSettings.dense(0.01f, 4, 0.1), null);
        opt.initialise(10);
        for (int t = 0; t < expected.length; t++) {
            opt.step(new float[10], golden(t, 10));
            final double[] u = opt.lastUpdate();
            // The window stores fp32: agreement to fp32 precision with the fp64 golden values.
            assertThat(norm(u)).isCloseTo(expected[t][0], org.assertj.core.data.Offset.offset(2e-6));
            for (int j = 0; j < 3; j++) {
                assertThat(u[j]).isCloseTo(expected[t][1 + j], org.assertj.core.data.Offset.offset(2e-6));
            }
        }
    }

    @Test
    void goldenVectorsR2SparseMFacWithErrorFeedback() {
        final int[][] keptIdx = {{15, 19}, {0, 18}, {7, 16}, {9, 19}, {15, 19}, {6, 10}};
        final double[][] fig = {
            {2.8727450522, 2.2466761452, 2, -1.5630086235, 1.6138642273},
            {3.6070053869, 1.4752458379, 2, 1.0299607567, 1.0561870676},
            {3.0359475211, 1.0790301119, 2, -0.7586910107, -0.7672639264},
            {2.8278120650, 1.3362174480, 3, 1.2657361481, -0.3410105383},
            {1.8043604641, 2.9279291807, 3, 2.1018905662, 1.8552490526},
            {2.6217449199, 1.8897951977, 2, -1.3209238858, 1.3514754816}};
        final MFac opt = new MFac(MFacSettings.sparse(0.01f, 4, 0.1, 2 / 20.0), null);
        opt.initialise(20);
        for (int t = 0; t < fig.length; t++) {
            opt.step(new float[20], golden(t, 20));
            assertThat(opt.lastKept()).containsExactly(keptIdx[t]);
            assertThat(norm(opt.errorBuffer())).isCloseTo(fig[t][0], org.assertj.core.data.Offset.offset(2e-6));
            final double[] u = opt.lastUpdate();
            assertThat(norm(u)).isCloseTo(fig[t][1], org.assertj.core.data.Offset.offset(2e-6));
            assertThat(Arrays.stream(u).filter(v -> v != 0).count()).isEqualTo((long) fig[t][2]);
            assertThat(u[keptIdx[t][0]]).isCloseTo(fig[t][3], org.assertj.core.data.Offset.offset(2e-6));
            assertThat(u[keptIdx[t][1]]).isCloseTo(fig[t][4], org.assertj.core.data.Offset.offset(2e-6));
        }
    }

    private static double norm(final double[] v) {
        return Math.sqrt(dot(v, v));
    }

    @Test
    void gramMatrixIsKeptConsistentAfterEveryInsertDenseAndSparse() {
        for (final boolean sparse : new boolean[] {false, true}) {
            final int d = 40;
            final int m = 5;
            final MFac opt = sparse ? new MFac(MFacSettings.sparse(0.01f, m, 0.1, 0.2), null)
                    : new MFac(MFacSettings.dense(0.01f, m, 0.1), null);
            opt.initialise(d);
            final SplittableRandom r = new SplittableRandom(5);
            for (int t = 0; t < 2 * m + 1; t++) {
                opt.step(new float[d], random(r, d));
                final double[][] rows = rows(opt, m, d);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < m; j++) {
                        assertThat(opt.algebra().gram(i, j)).isEqualTo(opt.algebra().gram(j, i))
                                .isCloseTo(dot(rows[i], rows[j]), org.assertj.core.data.Offset.offset(1e-9));
                    }
                }
            }
        }
    }

    private static double[][] rows(final MFac opt, final int m, final int d) {
        final double[][] out = new double[m][d];
        for (int r = 0; r < m; r++) {
            final double[] alpha = new double[m];
            alpha[r] = 1;
            opt.window().addCombination(alpha, out[r]);
        }
        return out;
    }

    @Test
    void errorFeedbackInvariantsHoldExactlyAtEveryStep() {
        final int d = 300;
        final int k = 6;
        final MFac opt = new MFac(MFacSettings.sparse(0.01f, 4, 0.1, k / (double) d), null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(6);
        final double[] sumG = new double[d];
        final double[] sumC = new double[d];
        for (int t = 0; t < 40; t++) {
            final float[] g = random(r, d);
            final double[] a = opt.errorBuffer().clone();
            for (int i = 0; i < d; i++) {
                a[i] += g[i];
                sumG[i] += g[i];
            }
            opt.step(new float[d], g);
            final double[] e = opt.errorBuffer();
            final int[] kept = opt.lastKept();
            assertThat(kept).hasSize(k);
            final double[] c = new double[d];
            final SparseWindow w = (SparseWindow) opt.window();
            for (int j = 0; j < w.count(t % 4); j++) {
                c[w.index(t % 4, j)] = w.value(t % 4, j);
            }
            double ea = 0;
            double aa = 0;
            double minKept = Double.MAX_VALUE;
            double maxDropped = 0;
            final Set<Integer> keptSet = new HashSet<>();
            for (final int i : kept) {
                keptSet.add(i);
            }
            for (int i = 0; i < d; i++) {
                assertThat(c[i] + e[i]).as("a = c + e at %d", i).isEqualTo(a[i]);
                sumC[i] += c[i];
                ea += e[i] * e[i];
                aa += a[i] * a[i];
                if (keptSet.contains(i)) {
                    minKept = Math.min(minKept, Math.abs(a[i]));
                } else {
                    maxDropped = Math.max(maxDropped, Math.abs(a[i]));
                }
            }
            assertThat(minKept).isGreaterThanOrEqualTo(maxDropped);
            assertThat(ea).isLessThanOrEqualTo((1 - k / (double) d) * aa);
            final double[] lhs = new double[d];
            for (int i = 0; i < d; i++) {
                lhs[i] = sumC[i] + e[i];
            }
            assertThat(relError(lhs, sumG)).isLessThan(1e-12);
        }
    }

    @Test
    void topKBreaksTiesTowardsTheSmallerIndexAndBlocksKeepTheirShare() {
        final int d = 10;
        final MFac opt = new MFac(MFacSettings.sparse(0.01f, 2, 0.1, 0.3), null);
        opt.initialise(d);
        opt.step(new float[d], new float[] {1, -3, 3, 0, 3, -2, 3, 0, 0, 1});
        assertThat(opt.lastKept()).containsExactly(1, 2, 4);
        final MFac zeros = new MFac(MFacSettings.sparse(0.01f, 2, 0.1, 0.5), null);
        zeros.initialise(d);
        zeros.step(new float[d], new float[] {0, 0, 2, 0, 0, 0, 0, 0, 0, 0});
        assertThat(zeros.lastKept()).hasSize(5).contains(2);
        assertThat(Arrays.stream(zeros.lastUpdate()).filter(v -> v != 0).count()).isEqualTo(1);
        // Block-wise: blocks of 8 over d = 20 keep ceil(0.25 * 8) = 2, 2 and ceil(0.25 * 4) = 1 entries.
        final MFac blocks = new MFac(MFacSettings.sparse(0.01f, 2, 0.1, 0.25)
                .withBlocks(8, IndexEncoding.UINT16_BLOCK_RELATIVE, ValueEncoding.FP32), null);
        blocks.initialise(20);
        final float[] g = new float[20];
        for (int i = 0; i < 20; i++) {
            g[i] = i % 7;
        }
        blocks.step(new float[20], g);
        assertThat(blocks.lastKept()).containsExactly(5, 6, 12, 13, 19);
    }

    @Test
    void sparseWindowEqualsDenseMFacFedTheDensifiedCompressedGradients() {
        final int d = 80;
        final int m = 6;
        final MFac sparse = new MFac(MFacSettings.sparse(0.01f, m, 1e-2, 0.1), null);
        final MFac dense = new MFac(MFacSettings.dense(0.01f, m, 1e-2), null);
        sparse.initialise(d);
        dense.initialise(d);
        final SplittableRandom r = new SplittableRandom(7);
        for (int t = 0; t < 3 * m; t++) {
            sparse.step(new float[d], random(r, d));
            final float[] c = new float[d];
            final SparseWindow w = (SparseWindow) sparse.window();
            for (int j = 0; j < w.count(t % m); j++) {
                c[w.index(t % m, j)] = w.value(t % m, j);
            }
            dense.step(new float[d], c);
            assertThat(relError(sparse.lastUpdate(), dense.lastUpdate())).isLessThan(1e-12);
        }
    }

    @Test
    void fullDensityMakesSparseMFacExactlyDenseMFac() {
        final int d = 50;
        final MFacSettings s = MFacSettings.sparse(0.05f, 5, 1e-2, 1.0);
        final MFac sparse = new MFac(s, null, true, io.spillway.engine.backend.WindowKernels.JAVA);
        final MFac dense = new MFac(MFacSettings.dense(0.05f, 5, 1e-2), null);
        sparse.initialise(d);
        dense.initialise(d);
        final float[] p1 = new float[d];
        final float[] p2 = new float[d];
        final SplittableRandom r = new SplittableRandom(8);
        for (int t = 0; t < 12; t++) {
            final float[] g = random(r, d);
            sparse.step(p1, g.clone());
            dense.step(p2, g.clone());
            assertThat(sparse.errorBuffer()).containsOnly(0.0);
            assertThat(sparse.lastUpdate()).containsExactly(dense.lastUpdate());
            assertThat(p1).containsExactly(p2);
        }
    }

    @Test
    void updatesStayInTheWindowsSupport() {
        final int d = 200;
        final MFac opt = new MFac(MFacSettings.sparse(0.01f, 4, 0.1, 0.02), null);
        opt.initialise(d);
        final SplittableRandom r = new SplittableRandom(9);
        final Set<Integer> support = new HashSet<>();
        for (int t = 0; t < 10; t++) {
            opt.step(new float[d], random(r, d));
            if (t == 0) {
                assertThat(Arrays.stream(opt.lastUpdate()).filter(v -> v != 0).count()).isEqualTo(4);
            }
            support.clear();
            final SparseWindow w = (SparseWindow) opt.window();
            for (int row = 0; row < 4; row++) {
                for (int j = 0; j < w.count(row); j++) {
                    support.add(w.index(row, j));
                }
            }
            for (int i = 0; i < d; i++) {
                if (opt.lastUpdate()[i] != 0) {
                    assertThat(support).contains(i);
                }
            }
        }
    }

    @Test
    void windowAndErrorFeedbackMemoryFollowTheFormulaThroughTheAccountant() {
        final int d = 100_000;
        final int m = 16;
        final MemoryAccountant accountant = new MemoryAccountant();
        final MFac sparse = new MFac(MFacSettings.sparse(0.01f, m, 0.1, 0.01)
                .withBlocks(4096, IndexEncoding.UINT16_BLOCK_RELATIVE, ValueEncoding.BF16), accountant);
        sparse.initialise(d);
        final int k = BlockLayout.of(d, 4096, 0.01).entries();
        assertThat(sparse.windowBytes()).isEqualTo((long) m * k * (2 + 2));
        assertThat(sparse.errorFeedbackBytes()).isEqualTo(d * 8L);
        assertThat(accountant.liveBytes(MemoryTier.DEVICE)).isEqualTo(m * k * 4L + d * 8L);
        final MemoryAccountant denseAccountant = new MemoryAccountant();
        final MFac dense = new MFac(MFacSettings.dense(0.01f, m, 0.1), denseAccountant);
        dense.initialise(d);
        assertThat(denseAccountant.liveBytes(MemoryTier.DEVICE)).isEqualTo((long) m * d * 4);
        final MFac int32 = new MFac(MFacSettings.sparse(0.01f, m, 0.1, 0.01), null);
        int32.initialise(d);
        assertThat(int32.windowBytes()).isEqualTo((long) m * 1000 * (4 + 4));
    }

    @Test
    void blockRelativeIndicesRoundTripAndTooLargeBlocksAreRejected() {
        final BlockLayout layout = BlockLayout.of(70_000, 65_536, 0.001);
        assertThat(layout.blocks()).isEqualTo(2);
        final SparseWindow w = new SparseWindow(1, layout.entries(), layout, IndexEncoding.UINT16_BLOCK_RELATIVE,
                ValueEncoding.FP32);
        final int[] idx = new int[layout.entries()];
        final float[] val = new float[layout.entries()];
        for (int j = 0; j < idx.length; j++) {
            idx[j] = layout.blockOf(j) * 65_536 + (j < layout.perBlock() ? 65_535 - j : 4_463 - (j - layout.perBlock()));
            val[j] = j;
        }
        final int[] sorted = idx.clone();
        w.write(0, sorted, val, idx.length);
        for (int j = 0; j < idx.length; j++) {
            assertThat(w.index(0, j)).isEqualTo(idx[j]);
        }
        assertThatThrownBy(() -> MFacSettings.sparse(0.01f, 4, 0.1, 0.01)
                .withBlocks(65_537, IndexEncoding.UINT16_BLOCK_RELATIVE, ValueEncoding.FP32))
                .hasMessageContaining("65536");
        assertThatThrownBy(() -> new SparseWindow(2, 10, null, IndexEncoding.UINT16_BLOCK_RELATIVE, ValueEncoding.FP32))
                .hasMessageContaining("global");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(MFacSettings.MomentumVariant.class)
    void restoringAMidRunSnapshotContinuesBitwise(final MFacSettings.MomentumVariant variant) throws Exception {
        final int d = 120;
        final MFacSettings s = MFacSettings.sparse(0.02f, 8, 0.05, 0.05).withMomentum(0.5f, variant)
                .withClipping(8.0).withWarmup(20); // restored mid-warm-up
        final MFac a = new MFac(s, null);
        a.initialise(d);
        final float[] pa = new float[d];
        final SplittableRandom r = new SplittableRandom(10);
        for (int t = 0; t < 13; t++) {
            a.step(pa, random(r, d));
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.writeState(new DataOutputStream(bytes));
        final MFac b = new MFac(s, null);
        b.initialise(d);
        b.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        final float[] pb = pa.clone();
        for (int t = 0; t < 50; t++) {
            final float[] g = random(r, d);
            a.step(pa, g.clone());
            b.step(pb, g.clone());
            assertThat(pb).containsExactly(pa);
        }
        assertThatThrownBy(() -> {
            final MFac other = new MFac(MFacSettings.dense(0.02f, 8, 0.05), null);
            other.initialise(d);
            other.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        }).hasMessageContaining("does not fit");
    }

    /**
     * Refactoring only from the changed slot on is bitwise a full factorization (in the spirit of check 6,
     * docs/spec-efcp-mfac.md §5).
     */
    @Test
    void partialRefactorizationEqualsAFullOne() {
        final int d = 50;
        final MFac partial = new MFac(MFacSettings.dense(0.01f, 7, 1e-3), null);
        final MFac full = new MFac(MFacSettings.dense(0.01f, 7, 1e-3), null);
        partial.initialise(d);
        full.initialise(d);
        final SplittableRandom r = new SplittableRandom(14);
        for (int t = 0; t < 25; t++) {
            final float[] g = random(r, d);
            full.algebra().invalidateFactor();
            partial.step(new float[d], g.clone());
            full.step(new float[d], g.clone());
            assertThat(partial.lastUpdate()).containsExactly(full.lastUpdate());
        }
    }

    /**
     * Warm-up scales only the step: the window sees the same gradients, so step t (1-based) moves the
     * parameters by t / W of the unwarmed move, and from step W on both runs are bitwise equal.
     */
    @Test
    void warmUpRampsTheStepAndReachesTheBaseRateAtTheStatedStep() {
        final int d = 80;
        final int w = 6;
        final MFacSettings base = MFacSettings.sparse(0.05f, 4, 0.1, 0.1);
        final MFac plain = new MFac(base, null);
        final MFac warm = new MFac(base.withWarmup(w), null);
        plain.initialise(d);
        warm.initialise(d);
        final SplittableRandom r = new SplittableRandom(21);
        for (int t = 1; t <= 3 * w; t++) {
            final float[] g = random(r, d);
            final float[] pPlain = new float[d];
            final float[] pWarm = new float[d];
            plain.step(pPlain, g.clone());
            warm.step(pWarm, g.clone());
            assertThat(warm.lastUpdate()).containsExactly(plain.lastUpdate());
            assertThat(base.withWarmup(w).learningRateAt(t)).isEqualTo(t >= w ? 0.05f : 0.05f * t / w);
            if (t >= w) {
                assertThat(pWarm).as("step %d", t).containsExactly(pPlain);
            } else {
                for (int i = 0; i < d; i++) {
                    assertThat(pWarm[i]).isCloseTo(pPlain[i] * t / w, org.assertj.core.api.Assertions.within(1e-6f));
                }
                assertThat(pWarm).isNotEqualTo(pPlain);
            }
        }
    }

    /** A gradient longer than the clip norm enters the window scaled to it; a shorter one is untouched. */
    @Test
    void clippingScalesLongGradientsToTheNormAndLeavesShortOnesBitwise() {
        final int d = 50;
        final MFac clipped = new MFac(MFacSettings.dense(0.01f, 4, 0.1).withClipping(2.0), null);
        final MFac plain = new MFac(MFacSettings.dense(0.01f, 4, 0.1), null);
        clipped.initialise(d);
        plain.initialise(d);
        final SplittableRandom r = new SplittableRandom(22);
        final float[] small = random(r, d);
        double norm = 0;
        for (final float v : small) {
            norm += (double) v * v;
        }
        for (int i = 0; i < d; i++) {
            small[i] = (float) (small[i] / Math.sqrt(norm)); // norm 1 < 2: passes unchanged
        }
        final float[] pc = new float[d];
        final float[] pp = new float[d];
        clipped.step(pc, small.clone());
        plain.step(pp, small.clone());
        assertThat(pc).containsExactly(pp);
        final float[] big = random(r, d); // norm about sqrt(50) > 2
        final float[] gc = big.clone();
        clipped.step(pc, gc);
        double clippedNorm = 0;
        for (int i = 0; i < d; i++) {
            clippedNorm += (double) gc[i] * gc[i];
            assertThat(gc[i] * big[i]).isGreaterThanOrEqualTo(0f); // same direction
        }
        assertThat(Math.sqrt(clippedNorm)).isCloseTo(2.0, org.assertj.core.api.Assertions.within(1e-5));
        assertThat(clipped.algebra().gram(1, 1)).isCloseTo(4.0, org.assertj.core.api.Assertions.within(1e-4));
        assertThatThrownBy(() -> MFacSettings.dense(0.01f, 4, 0.1).withClipping(-1)).hasMessageContaining("clip");
        assertThatThrownBy(() -> MFacSettings.dense(0.01f, 4, 0.1).withWarmup(-1)).hasMessageContaining("warmup");
    }

    /**
     * Nesterov momentum leaves the window alone (same u as without momentum) and steps along
     * {@code u + mu v} with {@code v = mu v + u}; with mu = 0 it is bitwise the plain M-FAC update.
     */
    @Test
    void nesterovMomentumStepsAlongTheLookAheadAndMuZeroIsThePlainUpdate() {
        final int d = 40;
        final float eta = 0.05f;
        final float mu = 0.8f;
        final MFacSettings base = MFacSettings.sparse(eta, 4, 0.1, 0.1);
        final MFac plain = new MFac(base, null);
        final MFac zero = new MFac(base.withMomentum(0f, MFacSettings.MomentumVariant.NESTEROV), null);
        final MFac nesterov = new MFac(base.withMomentum(mu, MFacSettings.MomentumVariant.NESTEROV), null);
        plain.initialise(d);
        zero.initialise(d);
        nesterov.initialise(d);
        final float[] pPlain = new float[d];
        final float[] pZero = new float[d];
        final float[] pNesterov = new float[d];
        final float[] v = new float[d];
        final SplittableRandom r = new SplittableRandom(23);
        for (int t = 0; t < 20; t++) {
            final float[] g = random(r, d);
            plain.step(pPlain, g.clone());
            zero.step(pZero, g.clone());
            assertThat(pZero).containsExactly(pPlain);
            final float[] before = pNesterov.clone();
            nesterov.step(pNesterov, g.clone());
            final double[] u = nesterov.lastUpdate();
            assertThat(u).containsExactly(plain.lastUpdate());
            for (int i = 0; i < d; i++) {
                v[i] = mu * v[i] + (float) u[i];
                assertThat(pNesterov[i]).isEqualTo(before[i] - eta * ((float) u[i] + mu * v[i]));
            }
        }
        assertThat(pNesterov).isNotEqualTo(pPlain);
    }

    @Test
    void twoRunsAreBitwiseEqual() {
        final float[][] params = new float[2][60];
        for (int run = 0; run < 2; run++) {
            final MFac opt = new MFac(MFacSettings.sparse(0.05f, 6, 1e-2, 0.1), null);
            opt.initialise(60);
            final SplittableRandom r = new SplittableRandom(11);
            for (int t = 0; t < 30; t++) {
                opt.step(params[run], random(r, 60));
            }
        }
        assertThat(params[0]).containsExactly(params[1]);
    }
}
