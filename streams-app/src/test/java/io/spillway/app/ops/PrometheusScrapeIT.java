package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.List;
import java.util.Optional;
import io.spillway.app.SpillwayApp;
import io.spillway.app.it.RunningApp;
import io.spillway.app.it.TestApps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) scrapes the app while it trains on a real broker; the learner's
 * figures come back from Prometheus' query API and follow the training.
 */
class PrometheusScrapeIT {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesTheLearnerMetrics() throws Exception {
        final Optional<Path> prometheus = ExternalTool.find(List.of("prometheus"), List.of("/usr/bin"));
        assumePeer(prometheus.isPresent(), "Prometheus scrape test skipped: no prometheus on PATH (Debian package 'prometheus')");
        try (RunningApp running = RunningApp.start(dir.resolve("app"), 2_000)) {
            final SpillwayApp app = running.app();
            TestApps.await("a few training steps", Duration.ofSeconds(60), () -> app.trainer().steps() >= 5);
            final int port = freePort();
            final Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: spillway
                        metrics_path: /metrics
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(app.opsUri().getPort()));
            final Process process = new ProcessBuilder(prometheus.get().toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                final JsonNode loss = poll(port, "spillway_training_loss");
                assertThat(loss.get("value").get(1).asDouble()).isPositive().isLessThan(5);
                assertThat(loss.get("metric").get("job").asText()).isEqualTo("spillway");
                final long before = app.learner().version();
                TestApps.await("more training", Duration.ofSeconds(60), () -> app.learner().version() > before + 5);
                // Prometheus keeps scraping: the model version it reports catches up with the learner's.
                // (generous: on a loaded 2-core CI machine the publishing thread and the scrapes lag behind training)
                final long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                double seen = poll(port, "spillway_model_version").get("value").get(1).asDouble();
                while (seen <= before && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    seen = poll(port, "spillway_model_version").get("value").get(1).asDouble();
                }
                assertThat(seen).isGreaterThan(before);
                // summed over the memory pools: one of them (a survivor space just after a collection) may hold 0
                assertThat(poll(port, "sum(jvm_memory_used_bytes)").get("value").get(1).asDouble()).isPositive();
            } finally {
                process.destroy();
                process.waitFor();
            }
        }
    }

    private JsonNode poll(final int port, final String query) throws Exception {
        final URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                + URLEncoder.encode(query, StandardCharsets.UTF_8));
        final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                final HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                last = r.body();
                final JsonNode result = new ObjectMapper().readTree(r.body()).path("data").path("result");
                if (result.isArray() && !result.isEmpty()) {
                    return result.get(0);
                }
            } catch (final java.io.IOException notUpYet) {
                last = notUpYet.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("Prometheus never returned " + query + "; last answer: " + last + "; log: "
                + Files.readString(dir.resolve("prometheus.log")));
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
