package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.SpillwayApp;
import io.spillway.app.it.RunningApp;
import io.spillway.app.it.TestApps;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
 * {@code /metrics} is read over HTTP.
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
