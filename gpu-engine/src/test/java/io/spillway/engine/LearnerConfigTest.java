package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LearnerConfigTest {

    @Test
    void defaultsAndRoundTripThroughTheBuilder() {
        final LearnerConfig c = LearnerConfig.builder().vocabularySize(16).build();
        assertThat(c.alpha()).isEqualTo(0.9f);
        assertThat(c.gain()).isEqualTo(10f);
        assertThat(c.surrogateBeta()).isEqualTo(10f);
        assertThat(c.theta2()).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(c.adaptation()).isZero();
        assertThat(c.maxCarriedKeys()).isEqualTo(100_000);
        final LearnerConfig d = c.toBuilder().adaptation(0.3f).theta2(0.9f).maxCarriedKeys(7).build();
        assertThat(d.toBuilder().build().toString()).isEqualTo(d.toString()).contains("adaptation=0.3", "theta2=0.9");
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
