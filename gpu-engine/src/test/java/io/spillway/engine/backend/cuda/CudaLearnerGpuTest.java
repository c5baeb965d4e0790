package io.spillway.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.Backends;
import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The learner's CUDA path ({@code internals.CudaArrayBackend}, opened through {@link Backends}) against the CPU backend: each dense product within fp32
 * summation-order error, the sparse operations bitwise (they are the CPU's), and whole training steps of the
 * spiking learner: same loss and weights to a stated tolerance, and {@code auto} picks CUDA here.
 */
@Tag("gpu")
class CudaLearnerGpuTest {
    private static final Backends.Probe PROBE = Backends.probe("cuda");

    @BeforeEach
    void requireGpu() {
        if (Boolean.getBoolean("spillway.cuda.required") && !PROBE.available()) {
            throw new IllegalStateException("CUDA required (-Dspillway.cuda.required) but unusable: " + PROBE.detail());
        }
        assumeTrue(PROBE.available(), () -> "CUDA tests skipped: no usable GPU: " + PROBE.detail());
    }

    /** |gpu - cpu| <= 1e-5 * sum_k |x_k m_k| + 1e-7 per output: the fp32 error bound of a reordered sum. */
    @ParameterizedTest(name = "{0}x{1} batch {2} accumulate={3}")
    @CsvSource({"97, 128, 16, false", "1024, 1024, 16, false", "1024, 1024, 64, true", "33, 7, 3, true"})
    void denseProductsMatchTheCpuBackend(final int rows, final int cols, final int batch, final boolean accumulate) {
        final SplittableRandom r = new SplittableRandom(rows * 31L + cols);
        final float[] m = gaussian(r, rows * cols + 5);
        try (CpuBackend cpu = new CpuBackend(); ArrayBackend gpu = Backends.select("cuda");
             DenseMatrix mc = cpu.upload(m, 5, rows, cols); DenseMatrix mg = gpu.upload(m, 5, rows, cols)) {
            // y = x m^T
            final float[] x = gaussian(r, batch * cols);
            final float[] y0 = gaussian(r, batch * rows);
            final float[] yc = y0.clone();
            final float[] yg = y0.clone();
            cpu.multiplyTransposed(mc, x, batch, yc, accumulate);
            gpu.multiplyTransposed(mg, x, batch, yg, accumulate);
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < rows; i++) {
                    double bound = accumulate ? Math.abs(y0[b * rows + i]) : 0;
                    for (int c = 0; c < cols; c++) {
                        bound += Math.abs((double) x[b * cols + c] * m[5 + i * cols + c]);
                    }
                    assertThat((double) Math.abs(yg[b * rows + i] - yc[b * rows + i])).as("y[%d,%d]", b, i)
                            .isLessThanOrEqualTo(1e-5 * bound + 1e-7);
                }
            }
            // z = x m
            final float[] xs = gaussian(r, batch * rows);
            final float[] z0 = gaussian(r, batch * cols);
            final float[] zc = z0.clone();
            final float[] zg = z0.clone();
            cpu.multiply(mc, xs, batch, zc, accumulate);
            gpu.multiply(mg, xs, batch, zg, accumulate);
            for (int b = 0; b < batch; b++) {
                for (int c = 0; c < cols; c++) {
                    double bound = accumulate ? Math.abs(z0[b * cols + c]) : 0;
                    for (int i = 0; i < rows; i++) {
                        bound += Math.abs((double) xs[b * rows + i] * m[5 + i * cols + c]);
                    }
                    assertThat((double) Math.abs(zg[b * cols + c] - zc[b * cols + c])).as("z[%d,%d]", b, c)
                            .isLessThanOrEqualTo(1e-5 * bound + 1e-7);
                }
            }
        }
    }

    @Test
    void sparseOperationsAreTheCpuBackendsBitwise() {
        final SplittableRandom r = new SplittableRandom(3);
        final int n = 256;
        final float[] w = gaussian(r, n * n);
        final int[] rows = {3, 17, 99, 200};
        final float[] scales = {1f, 0.5f, -2f, 0.25f};
        try (ArrayBackend cpu = new CpuBackend(); ArrayBackend gpu = Backends.select("cuda")) {
            final float[] a = new float[n];
            final float[] b = new float[n];
            cpu.gatherRows(w, 0, n, rows, scales, 0, rows.length, a, 0);
            gpu.gatherRows(w, 0, n, rows, scales, 0, rows.length, b, 0);
            assertThat(b).containsExactly(a);
            final float[] ga = gaussian(r, n * n);
            final float[] gb = ga.clone();
            cpu.scatterAddRows(ga, 0, n, rows, scales, 0, rows.length, a, 0);
            gpu.scatterAddRows(gb, 0, n, rows, scales, 0, rows.length, b, 0);
            assertThat(gb).containsExactly(ga);
            final float[] da = new float[n];
            final float[] db = new float[n];
            cpu.dotRows(w, 0, n, rows, rows.length, a, 0, da, 0);
            gpu.dotRows(w, 0, n, rows, rows.length, b, 0, db, 0);
            assertThat(db).containsExactly(da);
        }
    }

    /**
     * Whole learner steps, CPU vs CUDA backend from the same seed: plain SGD (so weight differences are the
     * learning rate times gradient differences) for 5 steps, weights within 1e-5 absolute (they are O(0.1))
     * and losses within 1e-5 relative; the forward pass is the CPU's on both, so every spike agrees.
     */
    @Test
    void trainingStepsMatchTheCpuBackend() {
        final List<List<SequenceChunk>> batches = batches(5, 8, 48, 11L);
        try (Learner cpu = Learners.create(config("cpu").optimizer("sgd").learningRate(0.05f).build());
             Learner gpu = Learners.create(config("cuda").optimizer("sgd").learningRate(0.05f).build())) {
            assertThat(gpu.backendName()).isEqualTo("cuda");
            for (final List<SequenceChunk> batch : batches) {
                final TrainingStep a = cpu.train(batch);
                final TrainingStep b = gpu.train(batch);
                assertThat(b.targets()).isEqualTo(a.targets()).isPositive();
                assertThat(b.correct()).isBetween(a.correct() - 1, a.correct() + 1); // a near-tie argmax may differ
                assertThat(b.lossSum()).isCloseTo(a.lossSum(), org.assertj.core.data.Percentage.withPercentage(1e-3));
            }
            final Map<String, float[]> pc = cpu.parameters();
            final Map<String, float[]> pg = gpu.parameters();
            assertThat(pg.keySet()).isEqualTo(pc.keySet());
            double maxDiff = 0;
            double maxChange = 0;
            for (final String name : pc.keySet()) {
                final float[] x = pc.get(name);
                final float[] y = pg.get(name);
                for (int i = 0; i < x.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
                    maxChange = Math.max(maxChange, Math.abs(x[i]));
                }
            }
            assertThat(maxDiff).as("max |w_cpu - w_cuda| (max |w| %s)", maxChange).isLessThanOrEqualTo(1e-5);
        }
    }

    /** The default optimizer (sparse M-FAC) on the CUDA path learns the same as on the CPU over 20 steps. */
    @Test
    void defaultOptimizerTrainsTheSameOnBothBackends() {
        final List<List<SequenceChunk>> batches = batches(20, 8, 32, 12L);
        double lossCpu = 0;
        double lossGpu = 0;
        try (Learner cpu = Learners.create(config("cpu").build()); Learner gpu = Learners.create(config("auto").build())) {
            assertThat(gpu.backendName()).as("auto picks cuda on a GPU machine").isEqualTo("cuda");
            for (int s = 0; s < batches.size(); s++) {
                final TrainingStep a = cpu.train(batches.get(s));
                final TrainingStep b = gpu.train(batches.get(s));
                if (s >= 15) {
                    lossCpu += a.lossSum();
                    lossGpu += b.lossSum();
                }
            }
        }
        assertThat(lossGpu).isCloseTo(lossCpu, org.assertj.core.data.Percentage.withPercentage(1.0));
    }

    private static LearnerConfig.Builder config(final String backend) {
        return LearnerConfig.builder().cell("lif").vocabularySize(8).featureDimension(6).hiddenSize(96).layers(2).backend(backend)
                .seed(5L);
    }

    /** Keys following a fixed motif with 10% random events and two sparse features. */
    private static List<List<SequenceChunk>> batches(final int count, final int keys, final int length,
                                                     final long seed) {
        final int[] perm = {3, 6, 0, 5, 2, 7, 1, 4};
        final SplittableRandom r = new SplittableRandom(seed);
        final int[] cur = new int[keys];
        final List<List<SequenceChunk>> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            final List<SequenceChunk> batch = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < length; i++) {
                    cur[k] = r.nextInt(10) == 0 ? r.nextInt(8) : perm[cur[k]];
                    ev.add(new SparseEvent(cur[k], new int[] {k % 3, 3 + cur[k] % 3},
                            new float[] {0.5f, (float) r.nextGaussian()}, SparseEvent.NO_LABEL));
                }
                batch.add(new SequenceChunk("key-" + k, ev));
            }
            out.add(batch);
        }
        return out;
    }

    private static float[] gaussian(final SplittableRandom r, final int n) {
        final float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
