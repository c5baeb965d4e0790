package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LearnersTest {
    private static final LearnerConfig CONFIG = LearnerConfig.builder().vocabularySize(8).featureDimension(0)
            .hiddenSize(16).layers(1).optimizer("adam").backend("cpu").seed(3).build();

    private static List<SequenceChunk> batch(final int shift) {
        final List<SequenceChunk> out = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            final List<SparseEvent> events = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                events.add(SparseEvent.ofType((t * (k + 1) + shift) % 8));
            }
            out.add(new SequenceChunk("key-" + k, events));
        }
        return out;
    }

    private static Map<String, float[]> trainTwice() {
        try (Learner learner = Learners.create(CONFIG)) {
            learner.train(batch(0));
            learner.train(batch(1));
            return learner.parameters();
        }
    }

    /**
     * A learner and its backend book with one accountant: a backend that books its matrices as device memory (as
     * the CUDA backend does; here the test class path's {@code cpu-booking}) raises the learner's device peak by
     * exactly the matrices of a window, and changes nothing else.
     */
    @Test
    void theDevicePeakIncludesTheBackendsMatrices() {
        final LearnerConfig lif = CONFIG.toBuilder().cell("lif").build();
        try (Learner cpu = Learners.create(lif);
             Learner booking = Learners.create(lif.toBuilder()
                     .backend(io.spillway.engine.backend.DeviceBookingBackendProvider.NAME).build())) {
            final TrainingStep a = cpu.train(batch(0));
            final TrainingStep b = booking.train(batch(0));
            final long matrices = 4L * (8 * 16 + 16 * 16); // readout 8x16 and the recurrent 16x16
            assertThat(b.memory().peakDeviceBytes() - a.memory().peakDeviceBytes()).isEqualTo(matrices);
            assertThat(b.lossSum()).isEqualTo(a.lossSum());
            assertThat(b.schedule()).isEqualTo(a.schedule());
        }
    }

    /** The sparse M-FAC window computes with its learner's backend's window kernels, to the same bits. */
    @Test
    void theOptimizersWindowUsesTheBackendsKernels() {
        final LearnerConfig mfac = CONFIG.toBuilder().optimizer("mfac-sparse").build();
        final long before = io.spillway.engine.backend.DeviceBookingBackendProvider.WINDOW_KERNEL_CALLS.get();
        try (Learner cpu = Learners.create(mfac);
             Learner booking = Learners.create(mfac.toBuilder()
                     .backend(io.spillway.engine.backend.DeviceBookingBackendProvider.NAME).build())) {
            for (int step = 0; step < 3; step++) {
                cpu.train(batch(step));
                booking.train(batch(step));
            }
            assertThat(io.spillway.engine.backend.DeviceBookingBackendProvider.WINDOW_KERNEL_CALLS.get())
                    .isGreaterThan(before);
            final Map<String, float[]> a = cpu.parameters();
            final Map<String, float[]> b = booking.parameters();
            for (final String tensor : a.keySet()) {
                assertThat(b.get(tensor)).as(tensor).containsExactly(a.get(tensor));
            }
        }
    }

    @Test
    void aWarmUpLeavesNoTraceInTheTrainingOfOtherLearners() {
        final Map<String, float[]> cold = trainTwice();
        final Learners.WarmUp w = Learners.warmUp(CONFIG, 12, 3, Duration.ofMillis(100));
        assertThat(w.steps()).isPositive();
        final Map<String, float[]> warm = trainTwice();
        assertThat(warm.keySet()).isEqualTo(cold.keySet());
        for (final String tensor : cold.keySet()) {
            assertThat(warm.get(tensor)).as(tensor).containsExactly(cold.get(tensor));
        }
    }

    @Test
    void aWarmUpTrainsWholeStepsUntilItsBudgetIsSpent() {
        final Learners.WarmUp w = Learners.warmUp(CONFIG, 10, 4, Duration.ofMillis(200));
        assertThat(w.steps()).isPositive();
        assertThat(w.events()).isEqualTo(w.steps() * 40L);
        assertThat(w.took()).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        final LearnerConfig withFeatures = CONFIG.toBuilder().featureDimension(6).build();
        assertThat(Learners.warmUp(withFeatures, 5, 2, Duration.ofMillis(50)).steps()).isPositive();
    }

    @Test
    void aZeroBudgetTrainsNothingAndBadArgumentsAreRejected() {
        assertThat(Learners.warmUp(CONFIG, 10, 4, Duration.ZERO)).isEqualTo(new Learners.WarmUp(0, 0, Duration.ZERO));
        assertThatThrownBy(() -> Learners.warmUp(CONFIG, 10, 4, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("budget");
        assertThatThrownBy(() -> Learners.warmUp(CONFIG, 0, 4, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
