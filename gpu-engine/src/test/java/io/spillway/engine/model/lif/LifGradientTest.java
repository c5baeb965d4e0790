package io.spillway.engine.model.lif;

import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.WindowInputs;
import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.cpu.CpuBackend;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * BPTT gradients: the fp64 dense reference is validated against central finite differences (smooth spike
 * mode, where the surrogate is the true derivative), then the engine's fp32 sparse BPTT is compared with that
 * reference in hard-spike mode, where the surrogate stands in for the spike's derivative.
 */
class LifGradientTest {

    private static LifSettings settings(final int layers, final float theta2) {
        return new LifSettings(5, 4, 12, layers, 0.9f, 10f, 1f, 10f, theta2, 0.25f);
    }

    @ParameterizedTest(name = "adaptation={0}")
    @CsvSource({"0", "0.3"})
    void referenceBpttMatchesFiniteDifferencesWithSmoothSpikes(final float adaptation) {
        final LifSettings s = adaptation > 0 ? settings(2, Float.NEGATIVE_INFINITY).withAdaptation(adaptation, 0.8f)
                : settings(2, Float.NEGATIVE_INFINITY);
        final WindowFixture fx = new WindowFixture(s, new int[] {5, 3, 4}, 7L, 1.5f);
        final DenseReference ref = fx.reference(true);
        final double[] p = fx.paramsAsDouble();
        final double[] g = ref.gradient(p);
        final double eps = 1e-6;
        double maxAbs = 0;
        for (final double d : g) {
            maxAbs = Math.max(maxAbs, Math.abs(d));
        }
        assertThat(maxAbs).isGreaterThan(1e-3);
        int checked = 0;
        for (int i = 0; i < p.length; i++) {
            final double keep = p[i];
            p[i] = keep + eps;
            final double up = ref.loss(p);
            p[i] = keep - eps;
            final double down = ref.loss(p);
            p[i] = keep;
            final double fd = (up - down) / (2 * eps);
            assertThat(g[i]).as("parameter %d", i).isCloseTo(fd, org.assertj.core.data.Offset.offset(
                    1e-6 * maxAbs + 1e-4 * Math.abs(fd)));
            checked++;
        }
        assertThat(checked).isEqualTo(fx.params.size());
    }

    @ParameterizedTest(name = "layers={0} theta2={1} adaptation={2}")
    @CsvSource({"1, -Infinity, 0", "2, -Infinity, 0", "3, -Infinity, 0", "2, 0.9, 0", "2, -Infinity, 0.3",
        "3, 0.9, 0.5", "2, 1.6, 0", "3, 1.4, 0.3"})
    void engineBpttMatchesDenseReference(final int layers, final float theta2, final float adaptation) {
        final LifSettings cfg = adaptation > 0 ? settings(layers, theta2).withAdaptation(adaptation, 0.8f)
                : settings(layers, theta2);
        final WindowFixture fx = new WindowFixture(cfg, new int[] {6, 4, 5}, 11L + layers, 1.5f);
        final float[] grad = new float[fx.params.size()];
        try (CpuBackend backend = new CpuBackend()) {
            final LifWindow window = fx.window(backend, grad);
            final List<LifState> states = WindowFixture.bptt(window, fx.initial, 6);
            final DenseReference ref = fx.reference(false);
            final DenseReference.Trace tr = ref.forward(fx.paramsAsDouble());
            int spikes = 0;
            for (int t = 0; t < 6; t++) {
                final LifState s = states.get(t);
                for (int l = 0; l < layers; l++) {
                    for (int b = 0; b < 3; b++) {
                        for (int i = 0; i < 12; i++) {
                            final double rv = tr.v[t][(l * 3 + b) * 12 + i];
                            assertThat((double) s.potential(l, b, i)).isCloseTo(rv,
                                    org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(rv))));
                        }
                        final int[] ids = s.spikeIds(l, b);
                        spikes += ids.length;
                        for (int i = 0; i < 12; i++) {
                            assertThat(java.util.Arrays.binarySearch(ids, i) >= 0)
                                    .isEqualTo(tr.h[t][(l * 3 + b) * 12 + i]);
                        }
                    }
                }
            }
            if (theta2 >= 1.4f) {
                assertThat(window.sparseAdjoints()).as("gated rows computed sparsely").isPositive();
            }
            // the test is only meaningful with a mix of spiking and silent neurons
            assertThat(spikes).isBetween(20, 6 * layers * 3 * 12 - 20);
            assertThat(window.lossSum() / fx.inputs().targetCount()).isCloseTo(tr.loss,
                    org.assertj.core.data.Offset.offset(1e-4));
            final double[] g = ref.gradient(fx.paramsAsDouble());
            double maxAbs = 0;
            for (final double d : g) {
                maxAbs = Math.max(maxAbs, Math.abs(d));
            }
            for (final ParameterTensor t : fx.params.tensors()) {
                double diff = 0;
                double norm = 0;
                for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                    diff += (grad[i] - g[i]) * (grad[i] - g[i]);
                    norm += g[i] * g[i];
                    assertThat((double) grad[i]).as("%s[%d]", t.name(), i - t.offset())
                            .isCloseTo(g[i], org.assertj.core.data.Offset.offset(1e-5 * maxAbs + 1e-4 * Math.abs(g[i])));
                }
                assertThat(norm).as("%s has a gradient", t.name()).isGreaterThan(0);
                assertThat(Math.sqrt(diff / norm)).as(t.name()).isLessThan(1e-4);
            }
        }
    }

    private static LifState roundTrip(final LifWindow w, final LifState s) {
        final java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(w.codec().maxEncodedBytes());
        w.codec().encode(s, buf);
        buf.flip();
        return w.codec().decode(buf);
    }

    @Test
    void stepAndStepWithTapeGiveBitwiseEqualStates() {
        final WindowFixture fx = new WindowFixture(settings(2, Float.NEGATIVE_INFINITY), new int[] {6, 2, 5}, 3L, 1.5f);
        try (CpuBackend backend = new CpuBackend()) {
            final LifWindow window = fx.window(backend, new float[fx.params.size()]);
            LifState a = fx.initial;
            LifState b = fx.initial;
            for (int t = 0; t < 6; t++) {
                final LifState copy = roundTrip(window, a);
                a = window.step(a, t, true);
                b = window.stepWithTape(b, t).state();
                assertThat(a.sameAs(b)).isTrue();
                assertThat(a.sameAs(copy)).isFalse();
            }
            // step never modified its argument, so the kept checkpoint still holds the initial state
            assertThat(fx.initial.sameAs(new WindowFixture(settings(2, Float.NEGATIVE_INFINITY), new int[] {6, 2, 5},
                    3L, 1.5f).initial)).isTrue();
            assertThat(window.forwardSteps()).isEqualTo(12);
        }
    }

    @Test
    void twoChainedWindowsEqualOneWindow() {
        final WindowFixture fx = new WindowFixture(settings(2, Float.NEGATIVE_INFINITY), new int[] {10, 10}, 4L, 1.5f);
        try (CpuBackend backend = new CpuBackend()) {
            final LifState whole = WindowFixture.bptt(fx.window(backend, new float[fx.params.size()]), fx.initial, 10)
                    .get(9);
            final int[][] rows1 = java.util.Arrays.copyOfRange(fx.rows, 0, 10);
            final int[][] rows2 = java.util.Arrays.copyOfRange(fx.rows, 10, 20);
            final float[][] sc1 = java.util.Arrays.copyOfRange(fx.scales, 0, 10);
            final float[][] sc2 = java.util.Arrays.copyOfRange(fx.scales, 10, 20);
            final int[] tg1 = java.util.Arrays.copyOfRange(fx.targets, 0, 10);
            final int[] tg2 = java.util.Arrays.copyOfRange(fx.targets, 10, 20);
            final LifWindow first = new LifWindow(backend, fx.params, new WindowInputs(new int[] {5, 5}, rows1, sc1, tg1),
                    new float[fx.params.size()]);
            final LifState mid = WindowFixture.bptt(first, fx.initial, 5).get(4);
            final LifWindow second = new LifWindow(backend, fx.params, new WindowInputs(new int[] {5, 5}, rows2, sc2,
                    tg2), new float[fx.params.size()]);
            final LifState end = WindowFixture.bptt(second, mid, 5).get(4);
            assertThat(end.sameAs(whole)).isTrue();
            assertThat(end.spikeCount()).isPositive();
        }
    }
}
