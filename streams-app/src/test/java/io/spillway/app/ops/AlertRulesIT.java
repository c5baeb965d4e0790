package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker/prometheus/alerts.yml: valid rules ({@code promtool check rules}), its unit tests pass ({@code promtool test
 * rules} on alerts.test.yml), each alert has a case where it fires and one where it must not, and each names a
 * severity and a section of docs/monitoring.md that says what to do.
 */
class AlertRulesIT {
    private static final String NO_PROMTOOL = "promtool not installed (Debian package 'prometheus'; CI installs it): ";
    private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

    @Test
    void promtoolAcceptsTheRulesAndTheConfigThatLoadsThem() throws Exception {
        final Path promtool = promtool("rules not checked");
        final String rules = ExternalTool.run(List.of(promtool.toString(), "check", "rules", OperatorsKit.ALERTS.toString()), 60);
        assertThat(rules).contains("SUCCESS: " + OperatorsKit.alertExpressions().size() + " rules found");
        // the compose file's Prometheus loads exactly this rules file
        final String config = ExternalTool.run(List.of(promtool.toString(), "check", "config",
                OperatorsKit.PROMETHEUS_CONFIG.toString()), 60);
        assertThat(config).contains("SUCCESS: 1 rule files found").contains(OperatorsKit.ALERTS.getFileName().toString());
    }

    @Test
    void theRulesUnitTestsPass() throws Exception {
        final Path promtool = promtool("rules' unit tests not run");
        final String out = ExternalTool.run(List.of(promtool.toString(), "test", "rules", OperatorsKit.ALERTS_TEST.toString()), 120);
        assertThat(out).contains("SUCCESS");
    }

    @Test
    void everyAlertIsTestedFiringAndNotFiring() throws Exception {
        final JsonNode tests = OperatorsKit.YAML.readTree(OperatorsKit.ALERTS_TEST.toFile());
        assertThat(tests.path("rule_files").get(0).asText()).isEqualTo(OperatorsKit.ALERTS.getFileName().toString());
        final Map<String, Set<String>> cases = new TreeMap<>();
        for (final JsonNode test : tests.path("tests")) {
            for (final JsonNode check : test.path("alert_rule_test")) {
                cases.computeIfAbsent(check.path("alertname").asText(), a -> new TreeSet<>())
                        .add(check.path("exp_alerts").isEmpty() ? "not firing" : "firing");
            }
        }
        final Set<String> alerts = OperatorsKit.alertExpressions().keySet();
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(10);
        for (final String alert : alerts) {
            assertThat(cases.get(alert)).as("test cases of %s", alert).containsExactly("firing", "not firing");
        }
        assertThat(alerts).containsAll(cases.keySet());
    }

    @Test
    void everyAlertHasASeverityASummaryAndARunbookSection() throws Exception {
        final Set<String> anchors = headingAnchors(Files.readString(OperatorsKit.MONITORING_DOC));
        final List<String> problems = new ArrayList<>();
        for (final JsonNode group : OperatorsKit.alerts().path("groups")) {
            for (final JsonNode rule : group.path("rules")) {
                final String alert = rule.path("alert").asText();
                if (!SEVERITIES.contains(rule.path("labels").path("severity").asText())) {
                    problems.add(alert + ": severity is not one of " + SEVERITIES);
                }
                if (rule.path("annotations").path("summary").asText().isBlank()) {
                    problems.add(alert + ": no summary");
                }
                final String runbook = rule.path("annotations").path("runbook").asText();
                if (!runbook.equals("docs/monitoring.md#" + alert.toLowerCase(Locale.ROOT))
                        || !anchors.contains(alert.toLowerCase(Locale.ROOT))) {
                    problems.add(alert + ": runbook '" + runbook + "' is not a section of docs/monitoring.md named after it");
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    /** GitHub's anchors of the Markdown headings: lower case, punctuation dropped, spaces to hyphens. */
    static Set<String> headingAnchors(final String markdown) {
        final Set<String> anchors = new TreeSet<>();
        final Matcher m = Pattern.compile("(?m)^#{1,6}\\s+(.+?)\\s*$").matcher(markdown);
        while (m.find()) {
            anchors.add(m.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
        }
        return anchors;
    }

    static Path promtool(final String consequence) {
        final Optional<Path> promtool = ExternalTool.find(List.of("promtool"), List.of("/usr/bin", "/usr/local/bin"));
        assumePeer(promtool.isPresent(), NO_PROMTOOL + consequence);
        return promtool.get();
    }
}
