package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.model.Cell;
import io.spillway.engine.model.ParameterTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The EGRU's per-matrix learning rates above the reference width (muP for Adam), seen through the learner. */
class EgruRateScalesTest {
    private static final int VOCAB = 6;

    private static LearnerConfig config(final int hidden) {
        return LearnerConfig.builder().cell("egru").vocabularySize(VOCAB).featureDimension(2).hiddenSize(hidden)
                .layers(2).backend("cpu").seed(3L).build();
    }

    @Test
    void aboveTheReferenceWidthMatricesFromHiddenUnitsLearnSlowerAndTheRestFasterByMuPsRatio() {
        assertThat(Cells.of(config(128)).learningRateScales()).as("one rate at the reference width").isNull();
        final Cell<?> wide = Cells.of(config(512));
        final float[] scales = wide.learningRateScales();
        assertThat(scales).hasSize(wide.parameterCount());
        for (final ParameterTensor t : wide.tensors()) {
            final boolean fromHidden = t.name().endsWith(".w_rec") || t.name().equals("readout.w")
                    || t.name().equals("layer1.w_in");
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                // hidden 512 is 4 times the reference: matrices at 4^(-2/3), the rest at 4^(1/3), a ratio of 1/4
                assertThat(scales[i]).as(t.name()).isCloseTo(fromHidden ? 0.39685f : 1.58740f, within(1e-5f));
            }
        }
        assertThat(config(512).learningRate()).as("the default rate no longer falls with width")
                .isEqualTo(LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE);
    }

    /**
     * Adam's first step moves every parameter whose gradient is well above epsilon by its rate (m / sqrt(v) is the
     * gradient's sign): at hidden 256 the recurrent weights move by half of what the first layer's input weights do.
     */
    @Test
    void theFirstAdamStepOfAWideEgruMovesEachTensorByItsOwnRate() {
        final LearnerConfig cfg = config(256);
        final Random r = new Random(9);
        final List<SequenceChunk> batch = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            final List<SparseEvent> events = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                events.add(new SparseEvent(r.nextInt(VOCAB), new int[] {0, 1},
                        new float[] {(float) r.nextGaussian(), 1f}, SparseEvent.NO_LABEL));
            }
            batch.add(new SequenceChunk("k" + k, events));
        }
        try (Learner learner = Learners.create(cfg)) {
            assertThat(learner.optimizerDescription()).contains("rates scaled per parameter");
            final Map<String, float[]> before = copy(learner.parameters());
            learner.train(batch);
            // hidden 256 is twice the reference: 0.04 * 2^(1/3) and 0.04 * 2^(-2/3), half of it
            final double restRate = 0.04 * Math.cbrt(2), fromHiddenRate = 0.04 * Math.pow(2, -2.0 / 3);
            final Map<String, float[]> after = learner.parameters();
            assertMovedAtMost(before, after, "layer0.w_in", restRate);
            assertMovedAtMost(before, after, "layer0.w_rec", fromHiddenRate);
            assertMovedAtMost(before, after, "layer1.w_in", fromHiddenRate);
            assertMovedAtMost(before, after, "readout.w", fromHiddenRate);
            assertMovedAtMost(before, after, "readout.bias", restRate);
        }
    }

    /**
     * No parameter of {@code tensor} moved further than {@code rate} (Adam's first step is at most the rate), and the
     * one that moved furthest went more than half of it (where a gradient is far above epsilon the step is the rate):
     * so a tensor from hidden units (at most 0.0252 at hidden 256) is told apart from the rest (more than 0.0252).
     */
    private static void assertMovedAtMost(final Map<String, float[]> before, final Map<String, float[]> after,
                                          final String tensor, final double rate) {
        assertThat(largestMove(before, after, tensor)).as(tensor).isBetween(0.5 * rate + 1e-6, rate * (1 + 1e-5));
    }

    private static double largestMove(final Map<String, float[]> before, final Map<String, float[]> after,
                                      final String tensor) {
        final float[] a = before.get(tensor);
        final float[] b = after.get(tensor);
        double most = 0;
        for (int i = 0; i < a.length; i++) {
            most = Math.max(most, Math.abs((double) b[i] - a[i]));
        }
        return most;
    }

    private static Map<String, float[]> copy(final Map<String, float[]> parameters) {
        final Map<String, float[]> out = new java.util.TreeMap<>();
        parameters.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }
}
