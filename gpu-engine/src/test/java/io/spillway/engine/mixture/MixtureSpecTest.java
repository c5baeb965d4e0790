package io.spillway.engine.mixture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.LearnerConfig;
import org.junit.jupiter.api.Test;

class MixtureSpecTest {

    @Test
    void readsTheKindsAndSettings() {
        assertThat(MixtureSpec.parse("none", 16).enabled()).isFalse();
        assertThat(MixtureSpec.parse(" Context ", 16)).isEqualTo(new MixtureSpec(true, 6, 1 << 21, 0.02));
        assertThat(MixtureSpec.parse("context:order=3, pairs=1000,rate=0.1", 16))
                .isEqualTo(new MixtureSpec(true, 3, 1000, 0.1));
        // the default order is cut to what the vocabulary's codes allow: 2^20 types take 20 bits, order 1 at most
        assertThat(MixtureSpec.parse("context", 1 << 20).order()).isEqualTo(1);
        assertThat(LearnerConfig.builder().build().mixtureSpec().enabled()).isTrue();
    }

    @Test
    void refusesWhatItCannotRunNamingWhy() {
        assertThatThrownBy(() -> MixtureSpec.parse("ppm", 16)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown mixture 'ppm'");
        assertThatThrownBy(() -> MixtureSpec.parse("none:order=2", 16)).hasMessageContaining("takes no settings");
        assertThatThrownBy(() -> MixtureSpec.parse("context:depth=2", 16))
                .hasMessageContaining("unknown mixture setting 'depth'");
        assertThatThrownBy(() -> MixtureSpec.parse("context:order=two", 16)).hasMessageContaining("not a number");
        assertThatThrownBy(() -> MixtureSpec.parse("context:order=9", 256)).hasMessageContaining("at most 6");
        assertThatThrownBy(() -> MixtureSpec.parse("context:pairs=0", 16)).hasMessageContaining("pairs >= 1");
        assertThatThrownBy(() -> MixtureSpec.parse("context:rate=NaN", 16)).hasMessageContaining("rate");
        assertThatThrownBy(() -> MixtureSpec.parse("context:rate=-1", 16)).hasMessageContaining("rate");
        assertThatThrownBy(() -> LearnerConfig.builder().mixture("context:order=x").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a number");
    }
}
