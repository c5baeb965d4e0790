package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/grafana: the dashboard is well-formed Grafana JSON whose every query is valid PromQL, and the provisioning
 * gives Grafana the compose file's Prometheus and loads the dashboard. (That the metrics it names exist is
 * OperatorsKitMetricsIT's check, against the running app.)
 */
class GrafanaDashboardIT {
    private static final String DATASOURCE = "${datasource}";

    @TempDir
    Path dir;

    @Test
    void panelsUseTheDataSourceVariableAndHaveUniqueIds() throws Exception {
        final JsonNode dashboard = OperatorsKit.dashboard();
        assertThat(dashboard.path("uid").asText()).isEqualTo("spillway");
        assertThat(dashboard.path("templating").path("list").findValuesAsText("name")).contains("datasource", "instance");
        final Set<Integer> ids = new HashSet<>();
        final List<String> problems = new ArrayList<>();
        int queries = 0;
        for (final JsonNode panel : dashboard.path("panels")) {
            final String title = panel.path("title").asText();
            if (!ids.add(panel.path("id").asInt())) {
                problems.add("panel '" + title + "': id " + panel.path("id") + " used twice");
            }
            if ("row".equals(panel.path("type").asText())) {
                continue;
            }
            if (!DATASOURCE.equals(panel.path("datasource").path("uid").asText())) {
                problems.add("panel '" + title + "': data source is not " + DATASOURCE);
            }
            if (panel.path("targets").isEmpty()) {
                problems.add("panel '" + title + "': no query");
            }
            for (final JsonNode target : panel.path("targets")) {
                queries++;
                if (!DATASOURCE.equals(target.path("datasource").path("uid").asText())) {
                    problems.add("panel '" + title + "' query " + target.path("refId").asText() + ": data source is not "
                            + DATASOURCE);
                }
                if (!target.path("expr").asText().contains("$instance") && !target.path("expr").asText().startsWith("ALERTS")) {
                    problems.add("panel '" + title + "' query " + target.path("refId").asText()
                            + ": does not filter on $instance");
                }
            }
        }
        assertThat(problems).isEmpty();
        assertThat(queries).isGreaterThanOrEqualTo(20);
    }

    /** promtool parses PromQL only in rules files: each query becomes a recording rule of a scratch file. */
    @Test
    void everyQueryIsValidPromQl() throws Exception {
        final Path promtool = AlertRulesIT.promtool("dashboard queries not parsed");
        final StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int n = 0;
        for (final Map.Entry<String, String> e : OperatorsKit.dashboardExpressions().entrySet()) {
            rules.append("      # ").append(e.getKey()).append('\n')
                    .append("      - record: dashboard:query:").append(n++).append('\n')
                    .append("        expr: ").append(OperatorsKit.JSON.writeValueAsString(e.getValue())).append('\n');
        }
        final Path file = Files.writeString(dir.resolve("dashboard-queries.yml"), rules);
        final String out = ExternalTool.run(List.of(promtool.toString(), "check", "rules", file.toString()), 60);
        assertThat(out).contains("SUCCESS: " + n + " rules found");
    }

    @Test
    void provisioningGivesGrafanaComposePrometheusAndLoadsTheDashboards() throws Exception {
        final JsonNode sources = OperatorsKit.YAML.readTree(
                OperatorsKit.GRAFANA_PROVISIONING.resolve("datasources/prometheus.yml").toFile());
        final JsonNode prometheus = sources.path("datasources").get(0);
        assertThat(prometheus.path("type").asText()).isEqualTo("prometheus");
        assertThat(prometheus.path("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(prometheus.path("isDefault").asBoolean()).isTrue();
        final JsonNode providers = OperatorsKit.YAML.readTree(
                OperatorsKit.GRAFANA_PROVISIONING.resolve("dashboards/spillway.yml").toFile());
        assertThat(providers.path("providers").get(0).path("type").asText()).isEqualTo("file");
        // DockerComposeIT checks that compose.yaml mounts docker/grafana/dashboards at this path
        assertThat(providers.path("providers").get(0).path("options").path("path").asText())
                .isEqualTo("/var/lib/grafana/dashboards");
    }
}
