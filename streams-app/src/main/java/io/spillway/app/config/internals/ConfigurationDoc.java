package io.spillway.app.config.internals;

import io.spillway.app.config.AppSettings;
import io.spillway.app.config.Setting;
import io.spillway.app.config.SettingSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * Generates the settings tables of {@code docs/configuration.md} from the definitions, between two marker lines, so
 * the page cannot drift from the code: {@code ConfigurationDocTest} fails while they differ, and {@link #REGENERATE}
 * (or this class's {@link #main}) rewrites them.
 */
public final class ConfigurationDoc {
    public static final String BEGIN = "<!-- BEGIN GENERATED SETTINGS: do not edit; regenerate as said above -->";
    public static final String END = "<!-- END GENERATED SETTINGS -->";
    /** The command that rewrites the tables, run from the repository root. */
    public static final String REGENERATE = "./mvnw -B -q -pl streams-app -am test -Dtest=ConfigurationDocTest "
            + "-Dsurefire.failIfNoSpecifiedTests=false -Dspillway.docs.regenerate=true";

    private ConfigurationDoc() {
    }

    /** The tables, one per group, each setting's row made from its definition only. */
    public static String tables(final SettingSet definition) {
        final StringBuilder out = new StringBuilder();
        for (final Setting.Group group : Setting.Group.values()) {
            final List<Setting<?>> rows = definition.settings().stream().filter(s -> s.group() == group)
                    .sorted(Comparator.comparing(Setting::importance)).toList();
            if (rows.isEmpty()) {
                continue;
            }
            out.append("### ").append(group.title()).append("\n\n");
            out.append("| setting | type | default | valid values | description |\n|---|---|---|---|---|\n");
            for (final Setting<?> s : rows) {
                out.append("| `").append(s.option()).append("` | ").append(s.type().name()).append(" | ")
                        .append(s.defaultText() != null ? "`" + s.defaultText() + "`" : cell(s.defaultDescription()))
                        .append(" | ").append(cell(s.validValues())).append(" | ").append(cell(s.documentation()))
                        .append(" |\n");
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** {@code page} with the text between the markers replaced by the tables (the markers must be there). */
    public static String rewrite(final String page, final SettingSet definition) {
        final int begin = page.indexOf(BEGIN);
        final int end = page.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("the page has no " + BEGIN + " ... " + END + " block");
        }
        return page.substring(0, begin + BEGIN.length()) + "\n\n" + tables(definition) + page.substring(end);
    }

    /** Table cells: no pipes or line breaks; the docs pages cited become links (the page sits in docs/). */
    private static String cell(final String text) {
        return text.replace("|", "\\|").replace("\n", " ")
                .replaceAll("docs/([a-z0-9-]+\\.md)(#[a-z0-9-]+)?", "[$1]($1$2)")
                .replaceAll("<([a-z-]+)>", "&lt;$1&gt;");
    }

    /** Rewrites the page given as the argument (default: docs/configuration.md under the working directory). */
    public static void main(final String[] args) throws IOException {
        final Path page = Path.of(args.length > 0 ? args[0] : "docs/configuration.md");
        final String before = Files.readString(page, StandardCharsets.UTF_8);
        final String after = rewrite(before, AppSettings.DEFINITION);
        if (!after.equals(before)) {
            Files.writeString(page, after, StandardCharsets.UTF_8);
        }
        System.out.println(page + (after.equals(before) ? " is up to date" : " regenerated"));
    }
}
