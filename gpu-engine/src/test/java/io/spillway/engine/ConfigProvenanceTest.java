package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigProvenanceTest {
    private static final LearnerConfig BASE = LearnerConfig.builder().vocabularySize(8).hiddenSize(16).build();

    @Test
    void roundTripsEverySettingInOrder() throws Exception {
        final ConfigProvenance p = ConfigProvenance.of(BASE);
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            p.write(out);
        }
        final ConfigProvenance back = ConfigProvenance.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(back).isEqualTo(p);
        assertThat(back.settings().keySet()).containsExactlyElementsOf(BASE.settings().keySet());
    }

    @Test
    void howTheLearnerRunsMayChangeTheRestOnlyWhenAllowedAndTheShapeNever() throws Exception {
        final ConfigProvenance recorded = ConfigProvenance.of(BASE);
        final LearnerConfig elsewhere = BASE.toBuilder().backend("cuda").deviceMemoryBytes(1L << 30).seed(5)
                .maxCarriedKeys(3).checkpointSchedule("double").recomputeAhead(!BASE.recomputeAhead()).build();
        assertThat(recorded.changesTo(elsewhere)).isEmpty();
        assertThat(recorded.check(elsewhere, false, "snapshot version 1")).isEmpty();

        final LearnerConfig hotter = BASE.toBuilder().learningRate(0.5f).gain(3f).build();
        assertThat(recorded.changesTo(hotter)).extracting(ConfigProvenance.Change::toString)
                .containsExactly("gain " + BASE.gain() + " -> 3.0", "learningRate " + BASE.learningRate() + " -> 0.5");
        assertThatThrownBy(() -> recorded.check(hotter, false, "snapshot version 7"))
                .isInstanceOf(ConfigProvenance.ConfigChangeRefusedException.class)
                .hasMessageStartingWith("snapshot version 7 was made with other learner settings")
                .hasMessageContaining("--allow-config-change");
        assertThat(recorded.check(hotter, true, "snapshot version 7")).hasSize(2);

        final LearnerConfig wider = hotter.toBuilder().hiddenSize(32).build();
        assertThatThrownBy(() -> recorded.check(wider, true, "snapshot version 7"))
                .isInstanceOf(ConfigProvenance.ConfigChangeRefusedException.class)
                .hasMessageContaining("a model cannot change: [hiddenSize 16 -> 32]");
        assertThatThrownBy(() -> recorded.check(BASE.toBuilder().cell("lif").build(), true, "s"))
                .hasMessageContaining("cell egru -> lif");
    }

    @Test
    void theOptimizersSettingsMayChangeWhenAllowedItsKindNever() throws Exception {
        final ConfigProvenance constant = ConfigProvenance.of(BASE.toBuilder().optimizer("adam").build());
        final LearnerConfig decaying = BASE.toBuilder().optimizer("adam:decay=100").build();
        assertThatThrownBy(() -> constant.check(decaying, false, "snapshot version 3"))
                .hasMessageContaining("other learner settings").hasMessageContaining("optimizer adam -> adam:decay=100");
        assertThat(constant.check(decaying, true, "snapshot version 3")).extracting(ConfigProvenance.Change::fixed)
                .containsExactly(false);
        assertThatThrownBy(() -> constant.check(BASE.toBuilder().optimizer("mfac-sparse").learningRate(
                BASE.learningRate()).build(), true, "s"))
                .hasMessageContaining("a model cannot change: [optimizer adam -> mfac-sparse]");
    }

    @Test
    void aSettingTheSnapshotDidNotRecordIsNotCompared() {
        final Map<String, String> older = new LinkedHashMap<>(BASE.settings());
        older.remove("candidateBias");
        older.put("aSettingSinceRemoved", "1");
        assertThat(new ConfigProvenance(older).changesTo(BASE.toBuilder().candidateBias(-2f).build())).isEmpty();
    }
}
