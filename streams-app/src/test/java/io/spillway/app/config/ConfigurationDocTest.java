package io.spillway.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.config.internals.ConfigurationDoc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/configuration.md carries the tables generated from the definitions, as they are now. */
class ConfigurationDocTest {
    private static final Path PAGE = Path.of("..", "docs", "configuration.md").toAbsolutePath().normalize();

    @Test
    void theDocsTablesAreTheOnesGeneratedFromTheDefinitions() throws Exception {
        final String page = Files.readString(PAGE, StandardCharsets.UTF_8);
        final String generated = ConfigurationDoc.rewrite(page, AppSettings.DEFINITION);
        if (Boolean.getBoolean("spillway.docs.regenerate") && !generated.equals(page)) {
            Files.writeString(PAGE, generated, StandardCharsets.UTF_8);
            return;
        }
        assertThat(page).as("docs/configuration.md differs from the settings' definitions; regenerate it from the "
                + "repository root with: " + ConfigurationDoc.REGENERATE).isEqualTo(generated);
    }

    @Test
    void everySettingHasARowWithItsOptionTypeDefaultAndDocumentation() {
        final String tables = ConfigurationDoc.tables(AppSettings.DEFINITION);
        for (final Setting<?> s : AppSettings.DEFINITION.settings()) {
            final List<String> rows = tables.lines().filter(l -> l.startsWith("| `" + s.option() + "` |")).toList();
            assertThat(rows).as(s.option()).hasSize(1);
            assertThat(rows.getFirst()).contains("| " + s.type().name() + " |")
                    .contains(s.defaultText() != null ? "`" + s.defaultText() + "`" : "");
        }
        assertThat(tables).contains("| `--partitions` | int | `4` | at least 1 | Partitions of topics created when "
                + "missing |");
        assertThat(tables).contains("| `--backend` | string | `auto` | cpu, cuda, auto |");
        assertThat(tables).contains("[scaling-out.md](scaling-out.md)");
    }

    @Test
    void aPageWithoutTheMarkersIsRefused() {
        assertThatThrownBy(() -> ConfigurationDoc.rewrite("# no markers\n", AppSettings.DEFINITION))
                .hasMessageContaining(ConfigurationDoc.BEGIN);
    }
}
