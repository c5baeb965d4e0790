package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicBoolean ready = new AtomicBoolean(false);
    private final AtomicReference<Health> health = new AtomicReference<>(Health.alive());
    private OpsMetrics metrics;
    private OpsServer server;

    @BeforeEach
    void start() throws Exception {
        metrics = new OpsMetrics();
        server = OpsServer.start(OpsSettings.of("127.0.0.1", 0, OpsAuth.none()), metrics, ready::get, health::get);
    }

    @AfterEach
    void stop() {
        server.close();
        metrics.close();
    }

    static TrainingFigures figures(final long version, final double loss) {
        return new TrainingFigures(1_700_000_000_000L + version, version, loss, 0.25 + version / 100.0, 1234.5,
                100 * version, 42, 3, 64L << 20, 8L << 20, 1L << 20, 1.5, 2L << 20, 0, "cpu",
                "mfac-sparse(m=64, k=1%)", "double(Cr=64,Cl=8)", loss * 0.75, 0.5, 1234);
    }

    @Test
    void servesPrometheusTextWithTheLearnersFiguresAndJvmMetrics() throws Exception {
        metrics.record(figures(1, 2.5));
        metrics.record(figures(2, 1.75));
        metrics.deadLettered("bad-magic-byte");
        metrics.deadLettered("bad-magic-byte");
        metrics.deadLettered("nan-feature");
        final HttpResponse<String> r = get("metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.body())
                .contains("spillway_training_loss 1.75")
                .contains("spillway_prediction_loss 1.3125")
                .contains("spillway_prediction_accuracy 0.5")
                .contains("spillway_mixture_pairs 1234.0")
                .contains("spillway_model_version 2.0")
                .contains("spillway_optimizer_window_bytes 2097152.0")
                .contains("spillway_dlq_records_total{reason=\"bad-magic-byte\"} 2.0")
                .contains("spillway_dlq_records_total{reason=\"nan-feature\"} 1.0")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void historyIsJsonWithNullForUndefinedFiguresAndTheLatestSettings() throws Exception {
        metrics.record(figures(1, Double.NaN));
        metrics.record(figures(2, 0.5));
        metrics.deadLettered("unknown-schema-id");
        final JsonNode root = new ObjectMapper().readTree(get("api/history").body());
        assertThat(root.get("steps")).hasSize(2);
        assertThat(root.get("steps").get(0).get("loss").isNull()).isTrue();
        assertThat(root.get("steps").get(1).get("loss").asDouble()).isEqualTo(0.5);
        assertThat(root.get("checkpointSchedule").asText()).isEqualTo("double(Cr=64,Cl=8)");
        assertThat(root.get("modelVersion").asLong()).isEqualTo(2);
        assertThat(root.get("deadLetters").get("unknown-schema-id").asLong()).isEqualTo(1);
    }

    @Test
    void historyIsBounded() {
        for (int i = 0; i < OpsMetrics.HISTORY + 10; i++) {
            metrics.record(figures(i, 1));
        }
        assertThat(metrics.history()).hasSize(OpsMetrics.HISTORY);
        assertThat(metrics.history().get(0).modelVersion()).isEqualTo(10);
    }

    @Test
    void healthReadinessDashboardAndErrors() throws Exception {
        assertThat(get("health").statusCode()).isEqualTo(200);
        assertThat(get("ready").statusCode()).isEqualTo(503);
        ready.set(true);
        assertThat(get("ready").statusCode()).isEqualTo(200);
        final HttpResponse<String> page = get("dashboard");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("id=\"chart-loss\"", "api/history");
        assertThat(get("nope").statusCode()).isEqualTo(404);
        final HttpResponse<String> post = http.send(HttpRequest.newBuilder(server.uri().resolve("metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    @Test
    void healthIsServiceUnavailableWithTheReasonOnceAPartHasDied() throws Exception {
        health.set(new Health(true, Map.of("streams", "RUNNING", "trainer", "alive"), List.of()));
        final HttpResponse<String> up = get("health");
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(up.body()).get("status").asText()).isEqualTo("UP");
        health.set(new Health(false, Map.of("streams", "ERROR", "trainer", "alive"),
                List.of("the Kafka Streams client is ERROR: no input is consumed")));
        final HttpResponse<String> down = get("health");
        assertThat(down.statusCode()).isEqualTo(503);
        final JsonNode body = new ObjectMapper().readTree(down.body());
        assertThat(body.get("status").asText()).isEqualTo("DOWN");
        assertThat(body.get("components").get("streams").asText()).isEqualTo("ERROR");
        assertThat(body.get("problems").get(0).asText()).contains("ERROR");
        final HttpResponse<Void> head = http.send(HttpRequest.newBuilder(server.uri().resolve("health"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(head.statusCode()).isEqualTo(503);
    }

    @Test
    void aServerBeyondLoopbackNeedsATokenOrAnExplicitChoice() {
        assertThatThrownBy(() -> OpsServer.checkExposure("0.0.0.0", OpsAuth.none()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("beyond loopback").hasMessageContaining("--ops-auth-token-file")
                .hasMessageContaining("--ops-allow-unauthenticated");
        assertThatThrownBy(() -> OpsServer.checkExposure("", OpsAuth.none())).isInstanceOf(IllegalStateException.class);
        OpsServer.checkExposure("0.0.0.0", OpsAuth.unauthenticatedAllowed());
        OpsServer.checkExposure("0.0.0.0", OpsAuth.token("0123456789abcdef-token"));
        OpsServer.checkExposure("127.0.0.1", OpsAuth.none());
        OpsServer.checkExposure("localhost", OpsAuth.none());
        OpsServer.checkExposure("::1", OpsAuth.none());
        assertThatThrownBy(() -> OpsServer.start(OpsSettings.of("0.0.0.0", 0, OpsAuth.none()), metrics, ready::get,
                health::get)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void bindsToLoopbackByDefault() {
        assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
    }

    private HttpResponse<String> get(final String path) throws Exception {
        final URI uri = server.uri().resolve(path);
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
