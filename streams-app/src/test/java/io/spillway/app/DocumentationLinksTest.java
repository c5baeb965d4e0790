package io.spillway.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documentation's relative links point at files that exist, and every {@code docs/...md} a source comment
 * cites exists, with the section ({@code §2.7}) it names.
 */
class DocumentationLinksTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    /**
     * Pages the README links that other branches write; a missing one is tolerated, an existing one is checked like
     * any other. (Entries may be dropped once they are on main.)
     */
    private static final Set<String> WRITTEN_ELSEWHERE = Set.of("docs/learner.md", "docs/benchmarks.md",
            "docs/registry.md", "docs/snapshots.md", "docs/security.md", "docs/reliability.md");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern FENCE = Pattern.compile("(?s)```.*?```");
    private static final Pattern CITED = Pattern.compile("(docs/[a-z0-9-]+\\.md)(?: (§[0-9]+(?:\\.[0-9]+)?))?");

    @Test
    void relativeLinksInTheReadmeAndDocsResolve() throws IOException {
        final List<Path> pages = new ArrayList<>(List.of(REPO.resolve("README.md")));
        try (Stream<Path> docs = Files.list(REPO.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        final List<String> broken = new ArrayList<>();
        int checked = 0;
        for (final Path page : pages) {
            final Matcher m = LINK.matcher(FENCE.matcher(Files.readString(page)).replaceAll(""));
            while (m.find()) {
                final String link = m.group(1);
                if (link.matches("[a-z]+:.*") || link.startsWith("#")) {
                    continue;
                }
                final Path target = page.getParent().resolve(link.split("#", 2)[0]).normalize();
                checked++;
                if (!Files.exists(target) && !WRITTEN_ELSEWHERE.contains(REPO.relativize(target).toString())) {
                    broken.add(REPO.relativize(page) + " -> " + link);
                }
            }
        }
        assertThat(checked).as("links found").isGreaterThan(30);
        assertThat(broken).as("links to files that do not exist").isEmpty();
    }

    @Test
    void docsCitedInSourceCommentsExistWithTheirSections() throws IOException {
        final List<String> broken = new ArrayList<>();
        int checked = 0;
        for (final String module : List.of("schemas", "gpu-engine", "streams-app")) {
            try (Stream<Path> files = Files.walk(REPO.resolve(module).resolve("src"))) {
                for (final Path file : files.filter(p -> p.toString().matches(".*\\.(java|cu|sh|py)$")).toList()) {
                    final Matcher m = CITED.matcher(Files.readString(file));
                    while (m.find()) {
                        checked++;
                        final Path doc = REPO.resolve(m.group(1));
                        if (!Files.exists(doc)) {
                            if (!WRITTEN_ELSEWHERE.contains(m.group(1))) {
                                broken.add(REPO.relativize(file) + ": " + m.group(1));
                            }
                        } else if (m.group(2) != null && !hasSection(doc, m.group(2).substring(1))) {
                            broken.add(REPO.relativize(file) + ": " + m.group(1) + " has no section " + m.group(2));
                        }
                    }
                }
            }
        }
        for (final String script : List.of("gpu-engine/scripts/gpu-check.sh")) {
            final Matcher m = CITED.matcher(Files.readString(REPO.resolve(script)));
            while (m.find()) {
                checked++;
                if (!Files.exists(REPO.resolve(m.group(1)))) {
                    broken.add(script + ": " + m.group(1));
                }
            }
        }
        assertThat(checked).as("citations found").isGreaterThan(40);
        assertThat(broken).as("citations of docs or sections that do not exist").isEmpty();
    }

    /** A heading such as {@code ## 2. ...} or {@code ### 2.7 ...} numbers section {@code 2} or {@code 2.7}. */
    private static boolean hasSection(final Path doc, final String number) throws IOException {
        final Pattern heading = Pattern.compile("(?m)^#{2,4} " + Pattern.quote(number) + "[. ]");
        return heading.matcher(Files.readString(doc)).find();
    }
}
