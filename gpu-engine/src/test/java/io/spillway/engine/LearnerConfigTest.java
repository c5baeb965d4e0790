package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LearnerConfigTest {

    @Test
    void defaults() {
        final LearnerConfig c = LearnerConfig.builder().vocabularySize(16).build();
        assertThat(c.alpha()).isEqualTo(0.9f);
        assertThat(c.gain()).isEqualTo(10f);
        assertThat(c.surrogateBeta()).isEqualTo(10f);
        assertThat(c.theta2()).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(c.adaptation()).isZero();
        assertThat(c.maxCarriedKeys()).isEqualTo(100_000);
    }

    /**
     * Every field survives {@code toBuilder().build()}. The fields are found by reflection, so a field added later is
     * covered too: the test fails until it is set to a non-default value below (so that a copy that drops it shows).
     */
    @Test
    void everyFieldRoundTripsThroughTheBuilder() throws ReflectiveOperationException {
        final LearnerConfig defaults = LearnerConfig.builder().build();
        final LearnerConfig custom = everyFieldSet();
        final LearnerConfig copy = custom.toBuilder().build();

        final List<String> checked = new ArrayList<>();
        for (final Field field : LearnerConfig.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            final Method accessor = LearnerConfig.class.getMethod(field.getName());
            final Object set = accessor.invoke(custom);
            assertThat(set).as("the test sets %s to a non-default value", field.getName())
                    .isNotEqualTo(accessor.invoke(defaults));
            assertThat(accessor.invoke(copy)).as("%s after toBuilder().build()", field.getName()).isEqualTo(set);
            checked.add(field.getName());
        }
        assertThat(checked).contains("vocabularySize", "offChipDirectory", "adaptationDecay").hasSizeGreaterThan(18);
    }

    /** A configuration with every field away from its default (see {@link #everyFieldRoundTripsThroughTheBuilder}). */
    private static LearnerConfig everyFieldSet() {
        return LearnerConfig.builder().vocabularySize(97).featureDimension(5).hiddenSize(33)
                .layers(2).optimizer("sgd").learningRate(0.007f).backend("cpu").deviceMemoryBytes(123_456_789L)
                .checkpointSchedule("double").offChipDirectory(Path.of("/tmp/spillway-offchip"))
                .recomputeAhead(!LearnerConfig.builder().build().recomputeAhead()).seed(7L).alpha(0.8f).gain(12f).surrogateBeta(4f)
                .theta2(0.9f).spikeCapacity(0.25f).maxCarriedKeys(7).adaptation(0.3f).adaptationDecay(0.5f)
                .cell("lif").gradientClip(2f).thresholdMean(0.4f).pseudoDerivativeScale(3f).activityTarget(0.1f)
                .activityRegularization(0.5f).candidateBias(-1f).readout("events").learnThresholds(true)
                .mixture("context:order=3").build();
    }

    /**
     * {@code settings()} (what snapshots record) and {@code toString()} name every field with its value; the fields
     * are found by reflection, so one added later and left out fails here.
     */
    @Test
    void settingsAndToStringNameEveryField() throws ReflectiveOperationException {
        final LearnerConfig custom = everyFieldSet();
        final List<String> fields = new ArrayList<>();
        for (final Field field : LearnerConfig.class.getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            final String value = String.valueOf(LearnerConfig.class.getMethod(field.getName()).invoke(custom));
            assertThat(custom.settings()).as("settings()").containsEntry(field.getName(), value);
            assertThat(custom.toString()).as("toString()").contains(field.getName() + "=" + value);
            fields.add(field.getName());
        }
        assertThat(custom.settings().keySet()).containsExactlyElementsOf(fields);
        assertThat(fields).contains(LearnerConfig.FIXED_SETTINGS.toArray(String[]::new))
                .contains(LearnerConfig.EXECUTION_SETTINGS.toArray(String[]::new));
        assertThat(LearnerConfig.FIXED_SETTINGS).doesNotContainAnyElementsOf(LearnerConfig.EXECUTION_SETTINGS);
    }

    @Test
    void toStringShowsTheNeuronSettings() {
        final LearnerConfig d = LearnerConfig.builder().adaptation(0.3f).theta2(0.9f).maxCarriedKeys(7).build();
        assertThat(d.toString()).contains("adaptation=0.3", "theta2=0.9", "maxCarriedKeys=7");
    }

    @Test
    void eachCellHasItsOwnOptimizerLearningRateAndClipDefaults() {
        final LearnerConfig egru = LearnerConfig.builder().build();
        assertThat(egru.cell()).isEqualTo("egru");
        assertThat(egru.optimizer()).isEqualTo("adam:decay=" + LearnerConfig.DEFAULT_EGRU_ADAM_DECAY_STEPS);
        assertThat(egru.learningRate()).isEqualTo(LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE);
        // one rate at every width (the wide cell scales its matrices' rates itself, EgruRateScalesTest)
        assertThat(LearnerConfig.builder().hiddenSize(64).build().learningRate())
                .isEqualTo(LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE);
        assertThat(LearnerConfig.builder().hiddenSize(1024).optimizer("adam").build().learningRate())
                .isEqualTo(LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE);
        assertThat(egru.gradientClip()).isEqualTo(LearnerConfig.DEFAULT_EGRU_GRADIENT_CLIP);
        final LearnerConfig lif = LearnerConfig.builder().cell("lif").build();
        assertThat(lif.optimizer()).isEqualTo("mfac-sparse");
        assertThat(lif.learningRate()).isEqualTo(0.05f);
        assertThat(lif.gradientClip()).isZero();
        // an explicit optimizer keeps its own default rate, an explicit rate wins
        assertThat(LearnerConfig.builder().optimizer("mfac-sparse").build().learningRate()).isEqualTo(0.05f);
        assertThat(LearnerConfig.builder().learningRate(1e-3f).build().learningRate()).isEqualTo(1e-3f);
        assertThat(LearnerConfig.builder().optimizer("adam:b1=0").build().learningRate())
                .isEqualTo(LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> LearnerConfig.builder().alpha(1f).build()).hasMessageContaining("alpha");
        assertThatThrownBy(() -> LearnerConfig.builder().spikeCapacity(0f).build()).hasMessageContaining("spikeCapacity");
        assertThatThrownBy(() -> LearnerConfig.builder().theta2(Float.NaN).build()).hasMessageContaining("theta2");
        assertThatThrownBy(() -> LearnerConfig.builder().maxCarriedKeys(0).build()).hasMessageContaining("maxCarriedKeys");
        assertThatThrownBy(() -> LearnerConfig.builder().adaptationDecay(1f).build())
                .hasMessageContaining("adaptationDecay");
        assertThatThrownBy(() -> LearnerConfig.builder().surrogateBeta(-1f).build()).hasMessageContaining("surrogateBeta");
    }
}
