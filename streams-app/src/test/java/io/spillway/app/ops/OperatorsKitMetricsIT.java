package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;

import io.spillway.app.SpillwayApp;
import io.spillway.app.it.RunningApp;
import io.spillway.app.it.TestApps;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric the Grafana dashboard and the alerting rules query is one the app exports: the real app trains on a
 * real broker, one record is dead-lettered (that counter exists only from the first dead letter on), and its
 * {@code /metrics} is read over HTTP. Then a real Prometheus (Debian's package) scrapes it with the rules loaded:
 * every rule evaluates without error on the app's real label sets, and every dashboard query runs and, but for the
 * few that are empty while all is well, returns series.
 */
class OperatorsKitMetricsIT {
    /** Series Prometheus makes itself rather than scraping them. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up", "ALERTS");

    @TempDir
    Path dir;

    @Test
    void theDashboardAndTheRulesQueryOnlyMetricsTheAppExports() throws Exception {
        final Map<String, Set<String>> used = new TreeMap<>();
        OperatorsKit.alertExpressions().forEach((alert, expr) -> used.put("alert " + alert, PromQlMetricNames.in(expr)));
        OperatorsKit.dashboardExpressions().forEach((where, expr) -> used.put("dashboard " + where, PromQlMetricNames.in(expr)));
        assertThat(used.values().stream().mapToInt(Set::size).sum()).as("metric names found").isGreaterThan(40);

        final Set<String> exported;
        try (RunningApp running = RunningApp.start(dir.resolve("app"), 2_000)) {
            final SpillwayApp app = running.app();
            deadLetterOne(running.bootstrapServers());
            TestApps.await("training steps and a dead letter", Duration.ofSeconds(90),
                    () -> app.trainer().steps() >= 3 && app.counters().deadLettered() >= 1);
            exported = sampleNames(scrape(app.opsUri().resolve("metrics")));
        }
        assertThat(exported).contains("spillway_training_loss", "spillway_dlq_records_total", "kafka_stream_client_state");

        final Map<String, Set<String>> missing = new TreeMap<>();
        used.forEach((where, names) -> {
            final Set<String> absent = new TreeSet<>(names);
            absent.removeAll(exported);
            absent.removeAll(PROMETHEUS_OWN);
            if (!absent.isEmpty()) {
                missing.put(where, absent);
            }
        });
        assertThat(missing).as("metrics queried but not exported by the app").isEmpty();
    }

    @Test
    void aRealPrometheusEvaluatesTheRulesAndTheDashboardQueriesOnTheAppsSeries() throws Exception {
        final Optional<Path> prometheus = ExternalTool.find(List.of("prometheus"), List.of("/usr/bin"));
        assumePeer(prometheus.isPresent(), "skipped: no prometheus on PATH (Debian package 'prometheus'; CI installs it)");
        try (RunningApp running = RunningApp.start(dir.resolve("app"), 2_000)) {
            final SpillwayApp app = running.app();
            deadLetterOne(running.bootstrapServers());
            TestApps.await("training steps and a dead letter", Duration.ofSeconds(90),
                    () -> app.trainer().steps() >= 3 && app.counters().deadLettered() >= 1);
            final int port = freePort();
            Files.copy(OperatorsKit.ALERTS, dir.resolve("alerts.yml"));
            final Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - alerts.yml
                    scrape_configs:
                      - job_name: spillway
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(app.opsUri().getPort()));
            final Process process = new ProcessBuilder(prometheus.get().toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                final URI api = URI.create("http://127.0.0.1:" + port + "/api/v1/");
                // a few scrapes, so that rates and derivatives have two points
                TestApps.await("Prometheus scraping the app", Duration.ofSeconds(60),
                        () -> query(api, "count_over_time(up{job=\"spillway\"}[1m]) >= 5").path("result").size() == 1);
                final int alerts = OperatorsKit.alertExpressions().size();
                TestApps.await("every rule evaluated", Duration.ofSeconds(30), () -> {
                    final List<JsonNode> rules = rules(api);
                    return rules.size() == alerts
                            && rules.stream().allMatch(r -> !r.path("lastEvaluation").asText().startsWith("0001"));
                });
                final List<String> unhealthy = rules(api).stream().filter(r -> !"ok".equals(r.path("health").asText()))
                        .map(r -> r.path("name").asText() + ": " + r.path("lastError").asText()).toList();
                assertThat(unhealthy).as("rules that failed to evaluate").isEmpty();

                final Map<String, String> empty = new TreeMap<>();
                for (final Map.Entry<String, String> q : OperatorsKit.dashboardExpressions().entrySet()) {
                    final JsonNode data = query(api, q.getValue());
                    assertThat(data.isMissingNode()).as("%s: %s failed", q.getKey(), q.getValue()).isFalse();
                    if (data.path("result").isEmpty()) {
                        empty.put(q.getKey(), q.getValue());
                    }
                }
                // empty while all is well: no alert fires, and the lag figure is -1 (unknown) until the topology's
                // consumer reports it
                assertThat(empty.keySet()).as("dashboard queries without series: %s", empty)
                        .allMatch(where -> where.startsWith("panel 'Firing alerts'") || where.startsWith("panel 'Lag' query A"));
            } finally {
                process.destroy();
                process.waitFor();
            }
        }
    }

    /** The {@code data} of an instant query, or a missing node when Prometheus answered with an error. */
    private static JsonNode query(final URI api, final String promQl) {
        try {
            final JsonNode answer = OperatorsKit.JSON.readTree(get(api.resolve("query?query="
                    + URLEncoder.encode(promQl, StandardCharsets.UTF_8))));
            return "success".equals(answer.path("status").asText()) ? answer.path("data")
                    : OperatorsKit.JSON.missingNode();
        } catch (final Exception notUpYet) {
            return OperatorsKit.JSON.missingNode();
        }
    }

    private static List<JsonNode> rules(final URI api) {
        final List<JsonNode> out = new ArrayList<>();
        try {
            for (final JsonNode group : OperatorsKit.JSON.readTree(get(api.resolve("rules"))).path("data").path("groups")) {
                group.path("rules").forEach(out::add);
            }
        } catch (final Exception notUpYet) {
            return List.of();
        }
        return out;
    }

    private static String get(final URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A value without the Confluent framing: the topology dead-letters it as wrong-magic-byte. */
    private static void deadLetterOne(final String bootstrap) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>("events", "bad-key".getBytes(), new byte[] {9, 9, 9}));
            p.flush();
        }
    }

    private static String scrape(final URI metrics) throws Exception {
        final HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** The names of the samples in a Prometheus text exposition (for a histogram: its _bucket, _count, _sum). */
    static Set<String> sampleNames(final String exposition) {
        final Set<String> names = new TreeSet<>();
        for (final String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }
}
