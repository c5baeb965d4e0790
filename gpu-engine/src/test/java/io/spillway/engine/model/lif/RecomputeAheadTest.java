package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.CheckpointExecutor;
import io.spillway.engine.checkpoint.CheckpointStats;
import io.spillway.engine.checkpoint.ForwardPass;
import io.spillway.engine.checkpoint.RecurrentModel;
import io.spillway.engine.checkpoint.Reuse;
import io.spillway.engine.checkpoint.Schedule;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Recompute-ahead (the next local sub-segment recomputed on a second thread during the backward sweep of the
 * current one) changes where the extra forward steps run, not what they compute: gradients, loss, predictions
 * and the final state stay bitwise equal to BPTT, the forward-step count stays the F of
 * docs/spec-double-checkpointing.md §2.5, and when the budget has no room for a second sub-segment of tapes the
 * executor recomputes inline within the budget.
 */
class RecomputeAheadTest {
    private static final LifSettings SETTINGS = new LifSettings(6, 5, 40, 2, 0.9f, 10f, 1f, 10f,
            Float.NEGATIVE_INFINITY, 0.1f);
    private static final LifSettings ADAPTIVE = SETTINGS.withAdaptation(0.2f, 0.8f);
    private static final int[] LENGTHS = {37, 30, 37, 12};

    private record Outcome(float[] grad, double loss, int correct, LifState end, CheckpointStats stats,
                           long forwardSteps, long spikes) {
    }

    private static Outcome train(final LifSettings settings, final Schedule schedule, final boolean ahead,
                                 final MemoryAccountant accountant) {
        final WindowFixture fx = new WindowFixture(settings, LENGTHS, 17L, 1.5f);
        try (CpuBackend backend = new CpuBackend();
             CheckpointExecutor executor = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), Reuse.FULL,
                     true, ahead)) {
            final float[] grad = new float[fx.params.size()];
            final LifWindow window = fx.window(backend, grad);
            final CheckpointExecutor.Result<LifState> r = executor.run(window, fx.initial, 37, schedule);
            window.release();
            return new Outcome(grad, window.lossSum(), window.correct(), r.finalState(), r.stats(),
                    window.forwardSteps(), window.spikesEmitted());
        }
    }

    private static Schedule schedule(final String kind, final int a, final int b) {
        return kind.equals("uniform") ? new Schedule.Uniform(a) : new Schedule.DoubleCheckpoint(a, b);
    }

    @ParameterizedTest(name = "{0} {1} {2} adaptive={3}")
    @CsvSource({"uniform, 5, 0, false", "uniform, 1, 0, false", "double, 12, 5, false", "double, 10, 3, true",
        "double, 37, 6, false", "double, 20, 1, true", "double, 9, 9, false"})
    void matchesBpttBitwiseAndCountsTheSameForwardSteps(final String kind, final int a, final int b,
                                                         final boolean adaptive) {
        final LifSettings settings = adaptive ? ADAPTIVE : SETTINGS;
        final Outcome bptt = train(settings, new Schedule.Bptt(), false, new MemoryAccountant());
        final Schedule schedule = schedule(kind, a, b);
        final Outcome inline = train(settings, schedule, false, new MemoryAccountant());
        final Outcome ahead = train(settings, schedule, true, new MemoryAccountant());
        assertThat(ahead.grad()).containsExactly(bptt.grad());
        assertThat(ahead.loss()).isEqualTo(bptt.loss());
        assertThat(ahead.correct()).isEqualTo(bptt.correct());
        assertThat(ahead.end().sameAs(bptt.end())).isTrue();
        assertThat(ahead.stats().forwardEvaluations())
                .isEqualTo(inline.stats().forwardEvaluations())
                .isEqualTo(schedule.forwardEvaluations(37, Reuse.FULL));
        // the model counts the second thread's steps and spikes too
        assertThat(ahead.forwardSteps()).isEqualTo(inline.forwardSteps());
        assertThat(ahead.spikes()).isEqualTo(inline.spikes());
        assertThat(ahead.stats().backwardSteps()).isEqualTo(37);
    }

    @Test
    void peakGrowsByAtMostOneSubSegmentOfTapesAndAState() {
        final Schedule schedule = new Schedule.DoubleCheckpoint(12, 5);
        final Outcome inline = train(SETTINGS, schedule, false, new MemoryAccountant());
        final Outcome ahead = train(SETTINGS, schedule, true, new MemoryAccountant());
        final long cells = 4L * 2 * 40; // batch x layers x hidden
        final long state = 4 * cells + 4 * cells; // membranes and at most every neuron's spike id
        final long tape = 4 * cells + 2 * 4 * cells; // membranes and two spike sets
        assertThat(ahead.stats().peakDeviceBytes()).isGreaterThanOrEqualTo(inline.stats().peakDeviceBytes())
                .isLessThanOrEqualTo(inline.stats().peakDeviceBytes() + 5 * tape + state);
    }

    /** With the budget set to the inline run's own peak there is no room to work ahead: same result, inline. */
    @Test
    void aTightBudgetFallsBackToInlineRecomputationWithinTheBudget() {
        final Schedule schedule = new Schedule.DoubleCheckpoint(12, 5);
        final Outcome bptt = train(SETTINGS, new Schedule.Bptt(), false, new MemoryAccountant());
        final Outcome inline = train(SETTINGS, schedule, false, new MemoryAccountant());
        final long peak = inline.stats().peakDeviceBytes();
        final MemoryAccountant tight = new MemoryAccountant(peak, MemoryAccountant.UNLIMITED);
        final Outcome ahead = train(SETTINGS, schedule, true, tight);
        assertThat(ahead.grad()).containsExactly(bptt.grad());
        assertThat(ahead.stats().peakDeviceBytes()).isLessThanOrEqualTo(peak);
        assertThat(tight.liveBytes(MemoryTier.DEVICE)).isZero();
        assertThat(ahead.stats().forwardEvaluations()).isEqualTo(schedule.forwardEvaluations(37, Reuse.FULL));
    }

    /** A step that fails on the second thread fails the window with its cause and frees every booking. */
    @Test
    void aFailureOnTheRecomputeThreadFailsTheWindowAndFreesEverything() {
        final WindowFixture fx = new WindowFixture(SETTINGS, LENGTHS, 17L, 1.5f);
        final MemoryAccountant accountant = new MemoryAccountant();
        try (CpuBackend backend = new CpuBackend();
             CheckpointExecutor executor = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), Reuse.FULL,
                     true, true)) {
            final LifWindow window = fx.window(backend, new float[fx.params.size()]);
            final RecurrentModel<LifState, LifTape> failing = new FailingAhead(window, 5);
            assertThatThrownBy(() -> executor.run(failing, fx.initial, 37, new Schedule.DoubleCheckpoint(12, 5)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("recomputing a checkpoint segment failed")
                    .hasRootCauseMessage("injected failure at step 5");
            assertThat(accountant.liveBytes(MemoryTier.DEVICE)).isZero();
            window.release();
        }
    }

    /** The LIF window, except that its concurrent forward pass fails at one step. */
    private record FailingAhead(LifWindow inner, int failAt) implements RecurrentModel<LifState, LifTape> {
        @Override
        public LifState step(final LifState state, final int t, final boolean record) {
            return inner.step(state, t, record);
        }

        @Override
        public Taped<LifState, LifTape> stepWithTape(final LifState state, final int t) {
            return inner.stepWithTape(state, t);
        }

        @Override
        public Optional<ForwardPass<LifState, LifTape>> concurrentForward() {
            final ForwardPass<LifState, LifTape> pass = inner.concurrentForward().orElseThrow();
            return Optional.of(new ForwardPass<>() {
                @Override
                public LifState step(final LifState state, final int t, final boolean record) {
                    return pass.step(state, t, record);
                }

                @Override
                public Taped<LifState, LifTape> stepWithTape(final LifState state, final int t) {
                    if (t == failAt) {
                        throw new IllegalArgumentException("injected failure at step " + t);
                    }
                    return pass.stepWithTape(state, t);
                }
            });
        }

        @Override
        public Backward<LifTape> beginBackward() {
            return inner.beginBackward();
        }

        @Override
        public StateCodec<LifState> codec() {
            return inner.codec();
        }

        @Override
        public long stateBytes(final LifState state) {
            return inner.stateBytes(state);
        }

        @Override
        public long tapeBytes(final LifTape tape) {
            return inner.tapeBytes(tape);
        }
    }
}
