package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.RecurrentModel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The RecurrentModel contract as a checkpoint schedule relies on it: a uniform schedule that spills every C-th
 * state through the codec and recomputes each segment with tapes gives bitwise the gradients, loss and
 * predictions of full BPTT (docs/spec-double-checkpointing.md §6: checkpointed recomputation equals full backprop).
 */
class LifCheckpointContractTest {

    @ParameterizedTest(name = "interval={0} theta2={1} adaptation={2}")
    @CsvSource({"1, -Infinity, 0", "4, -Infinity, 0", "5, 0.9, 0", "3, -Infinity, 0.3", "12, 1.4, 0.3"})
    void spilledUniformCheckpointingEqualsFullBpttBitwise(final int interval, final float theta2,
                                                         final float adaptation) {
        LifSettings s = new LifSettings(6, 5, 20, 2, 0.9f, 10f, 1f, 10f, theta2, 0.1f);
        if (adaptation > 0) {
            s = s.withAdaptation(adaptation, 0.85f);
        }
        final WindowFixture fx = new WindowFixture(s, new int[] {12, 7, 10, 12}, 31L, 1.5f);
        final int steps = 12;
        try (CpuBackend backend = new CpuBackend()) {
            final float[] fullGrad = new float[fx.params.size()];
            final LifWindow full = fx.window(backend, fullGrad);
            final LifState fullEnd = WindowFixture.bptt(full, fx.initial, steps).get(steps - 1);

            final float[] grad = new float[fx.params.size()];
            final LifWindow model = fx.window(backend, grad);
            final List<ByteBuffer> spilled = new ArrayList<>();
            LifState u = fx.initial;
            for (int t = 0; t < steps; t++) {
                if (t % interval == 0) {
                    final ByteBuffer record = ByteBuffer.allocate(model.codec().maxEncodedBytes());
                    model.codec().encode(u, record);
                    spilled.add(record.flip());
                }
                u = model.step(u, t, true);
            }
            assertThat(u.sameAs(fullEnd)).isTrue();
            final RecurrentModel.Backward<LifTape> backward = model.beginBackward();
            for (int j = spilled.size() - 1; j >= 0; j--) {
                final int a = j * interval;
                final int b = Math.min(a + interval, steps);
                LifState v = model.codec().decode(spilled.get(j));
                final List<LifTape> tapes = new ArrayList<>();
                for (int t = a; t < b; t++) {
                    final RecurrentModel.Taped<LifState, LifTape> taped = model.stepWithTape(v, t);
                    tapes.add(taped.tape());
                    v = taped.state();
                }
                for (int t = b - 1; t >= a; t--) {
                    backward.step(tapes.get(t - a));
                }
            }
            assertThat(grad).containsExactly(fullGrad);
            assertThat(model.lossSum()).isEqualTo(full.lossSum());
            assertThat(model.correct()).isEqualTo(full.correct());
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < 4; b++) {
                    assertThat(model.predicted(t, b)).isEqualTo(full.predicted(t, b));
                    assertThat(model.loss(t, b)).isEqualTo(full.loss(t, b));
                }
            }
            assertThat(model.forwardSteps()).isEqualTo(2L * steps);
            assertThat(model.backwardSteps()).isEqualTo(steps);
        }
    }
}
