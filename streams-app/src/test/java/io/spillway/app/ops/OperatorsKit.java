package io.spillway.app.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operators' kit under {@code docker/}: the Prometheus alerting rules and their tests, the Grafana dashboard and
 * its provisioning, read for the tests that check them.
 */
final class OperatorsKit {
    static final Path DOCKER = Path.of("..", "docker").toAbsolutePath().normalize();
    static final Path PROMETHEUS_CONFIG = DOCKER.resolve("prometheus/prometheus.yml");
    static final Path ALERTS = DOCKER.resolve("prometheus/alerts.yml");
    static final Path ALERTS_TEST = DOCKER.resolve("prometheus/alerts.test.yml");
    static final Path DASHBOARD = DOCKER.resolve("grafana/dashboards/spillway.json");
    static final Path GRAFANA_PROVISIONING = DOCKER.resolve("grafana/provisioning");
    static final Path MONITORING_DOC = DOCKER.resolveSibling("docs").resolve("monitoring.md");

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    /** Grafana's template variables, as a panel query may use them, with a value that makes the query plain PromQL. */
    private static final Map<String, String> GRAFANA_VARIABLES = Map.of("__rate_interval", "5m", "__interval", "1m",
            "__range", "1h", "instance", ".*");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)}?");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([^,)]+?)\\s*,\\s*\\w+\\s*\\)");

    private OperatorsKit() {
    }

    static JsonNode alerts() throws IOException {
        return YAML.readTree(ALERTS.toFile());
    }

    static JsonNode dashboard() throws IOException {
        return JSON.readTree(DASHBOARD.toFile());
    }

    /** Each alert's expression by alert name, in file order. */
    static Map<String, String> alertExpressions() throws IOException {
        final Map<String, String> out = new LinkedHashMap<>();
        for (final JsonNode group : alerts().path("groups")) {
            for (final JsonNode rule : group.path("rules")) {
                out.put(rule.path("alert").asText(rule.path("record").asText()), rule.path("expr").asText());
            }
        }
        return out;
    }

    /**
     * Every PromQL expression of the dashboard, with Grafana's variables replaced so that it is plain PromQL, keyed
     * by where it is (panel title and query ref, or template variable name). A {@code label_values(metric, label)}
     * variable query contributes its metric selector.
     */
    static Map<String, String> dashboardExpressions() throws IOException {
        final Map<String, String> out = new LinkedHashMap<>();
        for (final JsonNode panel : dashboard().path("panels")) {
            for (final JsonNode target : panel.path("targets")) {
                out.put("panel '" + panel.path("title").asText() + "' query " + target.path("refId").asText(),
                        plainPromQl(target.path("expr").asText()));
            }
        }
        for (final JsonNode variable : dashboard().path("templating").path("list")) {
            if (!"query".equals(variable.path("type").asText())) {
                continue;
            }
            final JsonNode query = variable.path("query");
            final String text = query.isObject() ? query.path("query").asText() : query.asText();
            final Matcher m = LABEL_VALUES.matcher(text);
            out.put("variable '" + variable.path("name").asText() + "'", m.matches() ? plainPromQl(m.group(1)) : text);
        }
        return out;
    }

    /** Replaces Grafana's variables by sample values; an unknown variable is an error, not a silent pass. */
    static String plainPromQl(final String grafanaQuery) {
        final Matcher m = VARIABLE.matcher(grafanaQuery);
        final StringBuilder out = new StringBuilder();
        while (m.find()) {
            final String value = GRAFANA_VARIABLES.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException("unknown Grafana variable $" + m.group(1) + " in " + grafanaQuery);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
