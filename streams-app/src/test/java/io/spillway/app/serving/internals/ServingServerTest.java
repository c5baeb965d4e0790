package io.spillway.app.serving.internals;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.NextEvent;
import io.spillway.app.serving.Predictor;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SparseEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP API's answers and error shapes, on a predictor of one fixed version (no broker needed). */
class ServingServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LearnerConfig CONFIG = LearnerConfig.builder().vocabularySize(6).featureDimension(4)
            .hiddenSize(16).backend("cpu").seed(7).build();
    private final HttpClient http = HttpClient.newHttpClient();
    private Predictor predictor;
    private ServingMetrics metrics;
    private ServingServer server;

    private static PredictorSettings settings(final Map<String, Object> client) {
        return PredictorSettings.of(client, "http://127.0.0.1:1", Map.of(), Topics.defaults(), "m", CONFIG,
                ScaleOut.REPLICATE);
    }

    @BeforeEach
    void start() throws Exception {
        try (Learner learner = Learners.create(CONFIG)) {
            predictor = Predictor.fixed(settings(Map.of()), 7, learner.parameters());
        }
        metrics = new ServingMetrics(predictor);
        server = ServingServer.start(OpsSettings.of("127.0.0.1", 0, OpsAuth.none()), predictor, metrics,
                new HttpLimits(2048, 4), ServedCategories.NONE, List::of);
    }

    @AfterEach
    void stop() {
        server.close();
        metrics.close();
        predictor.close();
    }

    private HttpResponse<String> get(final String path) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri().resolve(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(final String path, final String type, final String body) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri().resolve(path)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(final HttpResponse<String> r, final int status, final String code)
            throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        final JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("error").asText()).isEqualTo(code);
        assertThat(body.get("message").asText()).isNotBlank();
    }

    @Test
    void describesTheModelServed() throws Exception {
        final HttpResponse<String> r = get("/v1/model");
        assertThat(r.statusCode()).isEqualTo(200);
        final JsonNode m = JSON.readTree(r.body());
        assertThat(m.get("version").asLong()).isEqualTo(7);
        assertThat(m.get("cell").asText()).isEqualTo("egru");
        assertThat(m.get("vocabularySize").asInt()).isEqualTo(6);
        assertThat(m.get("appliedAtMs").asLong()).isPositive();
        assertThat(m.get("publishedAtMs").isNull()).isTrue();
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void answersForAKeysStateAndForGivenEvents() throws Exception {
        assertError(get("/v1/predict/nobody"), 404, "unknown-key");
        final List<SparseEvent> events = List.of(SparseEvent.ofType(1), new SparseEvent(2, new int[] {0, 3},
                new float[] {0.5f, -1f}, SparseEvent.NO_LABEL));
        final NextEvent observed = predictor.observe("k 1", events, new long[] {10, 11}).getLast();
        final HttpResponse<String> r = get("/v1/predict/k%201?k=3");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        final JsonNode p = JSON.readTree(r.body());
        assertThat(p.get("key").asText()).isEqualTo("k 1");
        assertThat(p.get("modelVersion").asLong()).isEqualTo(7);
        assertThat(p.get("offset").asLong()).isEqualTo(11);
        assertThat(p.get("top")).hasSize(3);
        assertThat(p.get("predictedEventType").asInt()).isEqualTo(observed.predictedType());
        assertThat((float) p.get("probability").asDouble()).isEqualTo(observed.probability());

        final HttpResponse<String> what = post("/v1/predict", "application/json", "{\"key\":\"k 1\",\"events\":["
                + "{\"eventType\":4},{\"eventType\":0,\"features\":{\"indices\":[1],\"values\":[2.5]}}]}");
        assertThat(what.statusCode()).as(what.body()).isEqualTo(200);
        final NextEvent expected = predictor.predict("k 1", List.of(SparseEvent.ofType(4),
                new SparseEvent(0, new int[] {1}, new float[] {2.5f}, SparseEvent.NO_LABEL)), 5);
        final JsonNode w = JSON.readTree(what.body());
        assertThat(w.get("offset").isNull()).isTrue();
        assertThat(w.get("top")).hasSize(5);
        assertThat((float) w.get("probability").asDouble()).isEqualTo(expected.probability());
        // a what-if leaves the key's state alone
        assertThat(JSON.readTree(get("/v1/predict/k%201?k=3").body())).isEqualTo(p);
    }

    @Test
    void refusedRequestsGetTheirAnswerOnAConnectionThatCarriesTheNextRequest() throws Exception {
        // a refusal made before the body was read (415, 413 by declared length) reads and drops the rest of it, so
        // the client, sending it, gets the answer, and its pooled connection carries the next request
        for (int i = 0; i < 40; i++) {
            assertError(post("/v1/predict", "text/plain", "{\"key\":\"a\"}"), 415, "unsupported-media-type");
            assertError(post("/v1/predict", "application/json", "{\"key\":\"" + "x".repeat(3000) + "\"}"), 413,
                    "body-too-large");
            assertError(post("/v1/predict", "application/json", "{not json"), 400, "bad-json");
        }
        assertThat(JSON.readTree(get("/v1/model").body()).get("version").asLong()).isEqualTo(7);
    }

    @Test
    void refusesBadRequestsWithJsonErrors() throws Exception {
        assertError(get("/v1/predict/k?k=0"), 400, "bad-request");
        assertError(get("/v1/predict/k?k=x"), 400, "bad-request");
        assertError(post("/v1/predict", "application/json", "{not json"), 400, "bad-json");
        assertError(post("/v1/predict", "application/json", "[1]"), 400, "bad-request");
        assertError(post("/v1/predict", "application/json", "{\"events\":[{\"eventType\":1}]}"), 400,
                "bad-request");
        assertError(post("/v1/predict", "application/json", "{\"key\":\"a\",\"events\":[]}"), 400, "bad-request");
        assertError(post("/v1/predict", "application/json", "{\"key\":\"a\",\"events\":[{\"eventType\":6}]}"),
                400, "invalid-event");
        assertError(post("/v1/predict", "application/json",
                "{\"key\":\"a\",\"events\":[{\"eventType\":1,\"features\":{\"indices\":[9],\"values\":[1]}}]}"),
                400, "invalid-event");
        assertError(post("/v1/predict", "application/json",
                "{\"key\":\"a\",\"events\":[{\"eventType\":1,\"features\":{\"indices\":[1]}}]}"), 400, "bad-request");
        assertError(post("/v1/predict", "application/json", "{\"key\":\"a\",\"events\":[{\"category\":\"/cart\"}]}"),
                400, "bad-request"); // a category needs a dictionary vocabulary
        assertThat(post("/v1/predict", "application/json", "{\"key\":\"a\",\"events\":[{\"category\":\"/cart\"}]}")
                .body()).contains("needs a dictionary vocabulary");
        assertError(post("/v1/predict", "text/plain", "{}"), 415, "unsupported-media-type");
        assertError(post("/v1/predict", "application/json", "{\"key\":\"" + "x".repeat(3000) + "\"}"), 413,
                "body-too-large");
        assertError(post("/v1/predict", "application/json", "{\"key\":\"a\",\"events\":[{\"eventType\":1},"
                + "{\"eventType\":1},{\"eventType\":1},{\"eventType\":1},{\"eventType\":1}]}"), 413, "too-many-events");
        assertError(http.send(HttpRequest.newBuilder(server.uri().resolve("/v1/model"))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString()), 405, "method-not-allowed");
        assertError(get("/v1/predict"), 405, "method-not-allowed");
        assertError(get("/v2/nothing"), 404, "not-found");
        final String scrape = get("/metrics").body();
        assertThat(scrape).contains("spillway_serving_request_seconds_count{endpoint=\"predict\",status=\"413\"}")
                .contains("spillway_serving_model_staleness_seconds").contains("spillway_serving_evicted_keys_total")
                .contains("spillway_serving_version_swaps_total 1.0");
    }

    @Test
    void answers503BeforeAnyModelAnd401WithoutTheToken() throws Exception {
        final String token = "0123456789abcdef-token";
        // a broker nobody listens on: the follower keeps trying, no version is ever served
        try (Predictor waiting = Predictor.start(settings(Map.of("bootstrap.servers", "127.0.0.1:1",
                "default.api.timeout.ms", 500, "request.timeout.ms", 500)));
             ServingMetrics m = new ServingMetrics(waiting);
             ServingServer s = ServingServer.start(OpsSettings.of("127.0.0.1", 0, OpsAuth.token(token)), waiting, m,
                     HttpLimits.DEFAULT, ServedCategories.NONE, List::of)) {
            final HttpResponse<String> health = http.send(HttpRequest.newBuilder(s.uri().resolve("/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("DOWN");
            assertError(http.send(HttpRequest.newBuilder(s.uri().resolve("/v1/model")).build(),
                    HttpResponse.BodyHandlers.ofString()), 401, "unauthorized");
            final HttpRequest.Builder authed = HttpRequest.newBuilder(s.uri().resolve("/v1/model"))
                    .header("Authorization", "Bearer " + token);
            assertError(http.send(authed.build(), HttpResponse.BodyHandlers.ofString()), 503, "no-model");
            assertError(http.send(HttpRequest.newBuilder(s.uri().resolve("/v1/predict"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"a\",\"events\":[{\"eventType\":1}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString()), 503, "no-model");
        }
    }
}
