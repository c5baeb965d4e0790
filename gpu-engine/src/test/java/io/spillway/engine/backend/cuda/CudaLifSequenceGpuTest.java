package io.spillway.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spillway.engine.backend.Backends;
import io.spillway.engine.backend.cuda.internals.CudaDevice;
import io.spillway.engine.backend.cuda.internals.CudaLifLayer;
import io.spillway.engine.backend.cuda.internals.CudaLifSequence;
import io.spillway.engine.backend.cuda.internals.DeviceBuffer;
import io.spillway.engine.memory.MemoryAccountant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Training a LIF layer on the GPU: full BPTT matches an independent fp64 reference written here, and
 * double checkpointing (remote spill to pinned host memory, local checkpoints, prefetch on a copy stream)
 * gives gradients bitwise equal to BPTT on the GPU, with the step and transfer counts of
 * docs/spec-double-checkpointing.md §6 (P4, P7).
 */
@Tag("gpu")
class CudaLifSequenceGpuTest {
    private static final int BATCH = 4;
    private static final int INPUTS = 16;
    private static final int NEURONS = 300;
    private static Backends.Probe probe;
    private static CudaDevice device;

    @BeforeAll
    static void openGpu() {
        probe = Backends.probe("cuda");
        if (probe.available()) {
            device = CudaDevice.open(new MemoryAccountant());
        }
    }

    @AfterAll
    static void closeGpu() {
        if (device != null) {
            device.close();
        }
    }

    @BeforeEach
    void requireGpu() {
        if (Boolean.getBoolean("spillway.cuda.required") && !probe.available()) {
            throw new IllegalStateException("CUDA required (-Dspillway.cuda.required) but unusable: " + probe.detail());
        }
        assumeTrue(probe.available(), () -> "CUDA tests skipped: no usable GPU: " + probe.detail());
    }

    @ParameterizedTest(name = "T={0} Cr={1} Cl={2}")
    @CsvSource({"37, 12, 5", "37, 40, 3", "37, 1, 1", "64, 16, 4", "50, 7, 7"})
    void doubleCheckpointingIsBitwiseBpttAndBpttMatchesFp64Reference(final int steps, final int cr, final int cl) {
        final SplittableRandom random = new SplittableRandom(steps * 31L + cr);
        final float[] win = gaussian(random, INPUTS * NEURONS, 0.5f);
        final float[] wrec = gaussian(random, NEURONS * NEURONS, 0.05f);
        final float[] bias = gaussian(random, NEURONS, 0.1f);
        final int[] ids = random.ints((long) steps * BATCH, 0, INPUTS).toArray();
        try (CudaLifLayer layer = new CudaLifLayer(device, BATCH, INPUTS, NEURONS, NEURONS, win, wrec, bias);
             DeviceBuffer dIds = device.allocate(4L * ids.length, "ids")) {
            device.upload(dIds, ids);
            final CudaLifSequence sequence = new CudaLifSequence(device, layer);
            final CudaLifSequence.Report bptt = sequence.bptt(dIds, steps);
            final float[] gWin = layer.gradWin();
            final float[] gWrec = layer.gradWrec();
            final float[] gBias = layer.gradBias();
            layer.zeroGradients();
            final CudaLifSequence.Report dbl = sequence.doubleCheckpointed(dIds, steps, cr, cl);
            assertThat(layer.gradWin()).containsExactly(gWin);
            assertThat(layer.gradWrec()).containsExactly(gWrec);
            assertThat(layer.gradBias()).containsExactly(gBias);
            assertThat(layer.overflowCount()).isZero();

            final int remote = (steps + cr - 1) / cr;
            assertThat(dbl.remoteWrites()).isEqualTo(remote);
            assertThat(dbl.remoteReads()).isEqualTo(remote);
            assertThat(dbl.recomputedSteps()).isEqualTo(2L * steps - remote);
            assertThat(dbl.transferBytes()).isEqualTo(2L * remote * layer.stateBytes());
            assertThat(bptt.peakDeviceBytes()).isGreaterThanOrEqualTo((steps + 1L) * layer.stateBytes());

            final Reference ref = new Reference(win, wrec, bias, ids, steps);
            assertThat(relativeError(gWrec, ref.dWrec)).isLessThan(1e-4);
            assertThat(relativeError(gWin, ref.dWin)).isLessThan(1e-4);
            assertThat(relativeError(gBias, ref.dBias)).isLessThan(1e-4);
            assertThat(ref.spikes).as("the case must exercise spiking").isGreaterThan(steps * BATCH);
        }
    }

    private static double relativeError(final float[] actual, final double[] expected) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    private static float[] gaussian(final SplittableRandom random, final int n, final float scale) {
        final float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    /** Plain BPTT: the fp32 forward of the kernel (same operations), then the backward in fp64. */
    private static final class Reference {
        final double[] dWin = new double[INPUTS * NEURONS];
        final double[] dWrec = new double[NEURONS * NEURONS];
        final double[] dBias = new double[NEURONS];
        long spikes;

        Reference(final float[] win, final float[] wrec, final float[] bias, final int[] ids, final int steps) {
            final float alpha = CudaLifLayer.ALPHA;
            final float gain = CudaLifLayer.GAIN;
            final float theta = CudaLifLayer.THETA;
            final float[][] v = new float[steps + 1][BATCH * NEURONS];
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < BATCH; b++) {
                    for (int n = 0; n < NEURONS; n++) {
                        float current = bias[n];
                        current = current + 1f * win[ids[t * BATCH + b] * NEURONS + n];
                        for (int j = 0; j < NEURONS; j++) {
                            if (v[t][b * NEURONS + j] > theta) {
                                current = current + wrec[j * NEURONS + n];
                            }
                        }
                        final float prev = v[t][b * NEURONS + n];
                        final float kept = prev > theta ? 0f : prev;
                        final float value = alpha * kept + (1f - alpha) * gain * current;
                        v[t + 1][b * NEURONS + n] = value;
                        if (value > theta) {
                            spikes++;
                        }
                    }
                }
            }
            final double scale = (1.0 - alpha) * gain;
            final double lossGrad = 1.0 / (BATCH * (double) NEURONS);
            double[] next = new double[BATCH * NEURONS];
            for (int t = steps - 1; t >= 0; t--) {
                final double[] gv = new double[BATCH * NEURONS];
                for (int b = 0; b < BATCH; b++) {
                    for (int j = 0; j < NEURONS; j++) {
                        double r = 0;
                        for (int n = 0; n < NEURONS; n++) {
                            r += wrec[j * NEURONS + n] * next[b * NEURONS + n];
                        }
                        final double vt = v[t + 1][b * NEURONS + j];
                        final double x = CudaLifLayer.BETA * Math.abs(vt - theta) + 1;
                        final double keep = vt > theta ? 0 : 1;
                        gv[b * NEURONS + j] = (lossGrad + scale * r) / (x * x) + alpha * keep * next[b * NEURONS + j];
                    }
                }
                for (int b = 0; b < BATCH; b++) {
                    for (int n = 0; n < NEURONS; n++) {
                        final double g = scale * gv[b * NEURONS + n];
                        dBias[n] += g;
                        dWin[ids[t * BATCH + b] * NEURONS + n] += g;
                        for (int j = 0; j < NEURONS; j++) {
                            if (v[t][b * NEURONS + j] > theta) {
                                dWrec[j * NEURONS + n] += g;
                            }
                        }
                    }
                }
                next = gv;
            }
        }
    }
}
