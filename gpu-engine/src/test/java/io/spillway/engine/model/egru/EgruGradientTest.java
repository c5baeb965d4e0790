package io.spillway.engine.model.egru;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.RecurrentModel;
import io.spillway.engine.model.ParameterTensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The EGRU's gradient (full BPTT through the engine's sparse backward) against central differences of the
 * independent dense double-precision {@link EgruReference}, linearised so that its derivative is the one the
 * pseudo-derivative defines. Two layers, ragged batch, sparse features, the activity regulariser on, learned
 * thresholds, both readouts and two pseudo-derivative widths; kappa 0 checks the step-function gradient itself
 * (no event can move), where the linearised reference is the true loss.
 */
class EgruGradientTest {
    /** Whether any case ran: [0] unused, [1] dense event adjoints, [2] row-by-row ones. */
    private static final boolean[] paths = new boolean[3];

    @org.junit.jupiter.api.AfterAll
    static void bothAdjointPathsWereChecked() {
        assertThat(paths[1]).as("a case with dense event adjoints").isTrue();
        assertThat(paths[2]).as("a case with row-by-row event adjoints").isTrue();
    }

    /** Full BPTT: forward keeping every tape, then the reverse sweep; returns the states s_1..s_T. */
    static <S, T> List<S> bptt(final RecurrentModel<S, T> model, final S initial, final int steps) {
        final List<T> tapes = new ArrayList<>();
        final List<S> states = new ArrayList<>();
        S s = initial;
        for (int t = 0; t < steps; t++) {
            final RecurrentModel.Taped<S, T> tp = model.stepWithTape(s, t);
            tapes.add(tp.tape());
            states.add(tp.state());
            s = tp.state();
        }
        final RecurrentModel.Backward<T> back = model.beginBackward();
        for (int t = steps - 1; t >= 0; t--) {
            back.step(tapes.get(t));
        }
        return states;
    }

    @ParameterizedTest(name = "readout={0} kappa={1} lambda={2}")
    @CsvSource({"CELL, 1, 0.5", "EVENTS, 1, 0.5", "CELL, 3.6, 2", "EVENTS, 2, 0", "CELL, 0, 0.5"})
    void gradientMatchesFiniteDifferencesOfTheDenseReference(final EgruSettings.Readout readout, final float kappa,
                                                             final float lambda) {
        final EgruSettings s = new EgruSettings(5, 3, 7, 2, 0.3f, kappa, 0.2f, lambda, 0f, readout, true);
        final EgruFixture fx = new EgruFixture(s, new int[] {6, 4, 6}, 11L, 4f);
        final float[] grad = new float[fx.params.size()];
        final List<EgruState> states;
        final double loss;
        try (CpuBackend backend = new CpuBackend()) {
            final EgruWindow window = fx.window(backend, grad);
            states = bptt(window, fx.initial, fx.steps());
            loss = window.lossSum();
            paths[window.denseAdjoints() > 0 ? 1 : 0] = true;
            paths[window.adjointRows() > 0 ? 2 : 0] = true;
            window.release();
        }
        assertThat(loss).isFinite();
        final float[] pf = fx.params.values();
        final double[] p = new double[pf.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = pf[i];
        }
        final EgruReference ref = new EgruReference(fx);
        final int[][][] events = ref.record(p);
        int emitted = 0;
        int units = 0;
        for (int t = 0; t < fx.steps(); t++) {
            for (int pop = 0; pop < events[t].length; pop++) {
                final int l = pop / fx.lengths.length;
                final int b = pop % fx.lengths.length;
                if (t < fx.lengths[b]) {
                    assertThat(states.get(t).eventIds(l, b)).as("events at t=%d pop=%d", t, pop)
                            .containsExactly(events[t][pop]);
                    emitted += events[t][pop].length;
                    units += s.hiddenSize();
                }
            }
        }
        // the case must exercise events and silence alike
        assertThat((double) emitted / units).isBetween(0.1, 0.9);
        final double h = 1e-5;
        int checked = 0;
        for (final ParameterTensor t : fx.params.tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                final double keep = p[i];
                p[i] = keep + h;
                final double up = ref.loss(p);
                p[i] = keep - h;
                final double down = ref.loss(p);
                p[i] = keep;
                final double fd = (up - down) / (2 * h);
                assertThat((double) grad[i]).as("%s[%d]", t.name(), i - t.offset())
                        .isCloseTo(fd, org.assertj.core.data.Offset.offset(2e-5 + 2e-3 * Math.abs(fd)));
                checked++;
            }
        }
        assertThat(checked).isEqualTo(grad.length);
        final double nonZero = java.util.stream.IntStream.range(0, grad.length).filter(i -> grad[i] != 0f).count();
        assertThat(nonZero / grad.length).isGreaterThan(0.5);
    }
}
