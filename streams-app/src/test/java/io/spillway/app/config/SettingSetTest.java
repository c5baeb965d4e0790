package io.spillway.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Typed settings: parsing, validation, defaults and the definition's own checks. */
class SettingSetTest {
    @Test
    void sizesParseWithBinaryUnits() {
        assertThat(SettingType.BYTES.parse("512MiB")).isEqualTo(512L << 20);
        assertThat(SettingType.BYTES.parse("2g")).isEqualTo(2L << 30);
        assertThat(SettingType.BYTES.parse("64 KB")).isEqualTo(64L << 10);
        assertThat(SettingType.BYTES.parse("4096")).isEqualTo(4096);
        assertThatThrownBy(() -> SettingType.BYTES.parse("lots")).hasMessageContaining("'lots' is not a size");
        assertThatThrownBy(() -> SettingType.BYTES.parse("9999999999T")).hasMessageContaining("too large");
        assertThatThrownBy(() -> SettingType.BYTES.parse("99999999999999999999")).hasMessageContaining("too large");
    }

    @Test
    void textsParseByNameAndTheOthersKeepTheirDefaults() {
        final ParsedSettings s = AppSettings.DEFINITION.parse(Map.of("partitions", "8", "max-chunk-wait", "pt1s",
                "cell", "LIF", "device-memory", "1GiB"));
        assertThat(s.get(AppSettings.PARTITIONS)).isEqualTo(8);
        assertThat(s.get(AppSettings.MAX_CHUNK_WAIT)).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.get(AppSettings.CELL)).isEqualTo("lif");
        assertThat(s.get(AppSettings.DEVICE_MEMORY)).isEqualTo(1L << 30);
        assertThat(s.isGiven(AppSettings.PARTITIONS)).isTrue();
        assertThat(s.isGiven(AppSettings.BATCH_KEYS)).isFalse();
        assertThat(s.get(AppSettings.BATCH_KEYS)).isEqualTo(16);
        assertThat(s.get(AppSettings.INSTANCE_ID)).as("computed at run time").isNull();
        assertThat(s.with(AppSettings.BATCH_KEYS, 4).get(AppSettings.BATCH_KEYS)).isEqualTo(4);
    }

    @Test
    void theConfigurationBuildersDefaultsAreTheSettingsDefaults() {
        // AppConfig.builder() has defaults of its own for code that builds a configuration without the CLI
        final io.spillway.app.AppConfig fromSettings = AppSettings.configure(AppSettings.DEFINITION.parse(
                Map.of("instance-id", "i", "state-dir", "/tmp/state"))).bootstrapServers("x:1")
                .schemaRegistryUrl("http://r").build();
        final io.spillway.app.AppConfig byBuilder = io.spillway.app.AppConfig.builder().bootstrapServers("x:1")
                .schemaRegistryUrl("http://r").stateDir(fromSettings.stateDir()).topics(fromSettings.topics())
                .learner(fromSettings.learner()).trainer(fromSettings.trainer()).limits(fromSettings.limits()).build();
        assertThat(byBuilder).isEqualTo(fromSettings);
    }

    @Test
    void aBadValueIsRefusedNamingTheSettingAndWhatItAllows() {
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of("partitions", "0")))
                .isInstanceOf(SettingException.class)
                .hasMessage("--partitions: '0' is not allowed (allowed: at least 1)");
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of("replication-factor", "0")))
                .hasMessage("--replication-factor: '0' is not allowed (allowed: -1 or at least 1)");
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of("threshold-mean", "1")))
                .hasMessageContaining("(allowed: above 0 and below 1)");
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of("replication-factor", "40000")))
                .hasMessageContaining("not an integer from -32768 to 32767");
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of("partition", "4")))
                .hasMessageContaining("--partition: no such setting").hasMessageContaining("partitions");
        assertThatThrownBy(() -> AppSettings.DEFINITION.parse(Map.of()).with(AppSettings.BATCH_KEYS, 0))
                .hasMessageContaining("--batch-keys: '0' is not allowed");
    }

    @Test
    void theDefinitionsCheckThemselves() {
        final Setting.Builder<Integer> badDefault = Setting.define("n", SettingType.INT).byDefault("0")
                .validator(Validator.atLeast(1)).group(Setting.Group.MODEL).doc("n");
        assertThatThrownBy(badDefault::build).hasMessage("--n: '0' is not allowed (allowed: at least 1)");
        final Setting.Builder<Integer> noDefault = Setting.define("n", SettingType.INT).group(Setting.Group.MODEL)
                .doc("n");
        assertThatThrownBy(noDefault::build).hasMessageContaining("needs a default");
        final Setting<Integer> n = Setting.define("n", SettingType.INT).byDefault("1").group(Setting.Group.MODEL)
                .doc("n").build();
        assertThatThrownBy(() -> new SettingSet(List.of(n, n))).hasMessageContaining("defined twice");
        assertThatThrownBy(() -> AppSettings.DEFINITION.of(Map.of(n, 1))).hasMessageContaining("not one of these");
    }
}
