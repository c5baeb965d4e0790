package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real app's {@code /health} once its Kafka Streams client has shut itself down: its producer may send at most
 * 256 bytes a request, so the first chunk the topology writes fails (RecordTooLargeException, which the production
 * exception handler does not pass over), the stream thread dies and the client shuts down; nothing is consumed any
 * more, and the endpoint must say so for an orchestrator to restart the process. It said 200 before.
 */
@Tag("hostile-input")
class LivenessIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void healthFailsOnceTheStreamsClientHasShutDownWithoutAStop(@TempDir final Path dir) throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig base = TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8);
            final Map<String, Object> overrides = new HashMap<>(base.kafkaOverrides());
            overrides.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 256);
            try (SpillwayApp app = SpillwayApp.start(withKafkaOverrides(base, overrides))) {
                TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
                TestApps.await("the streams client to run", Duration.ofSeconds(120),
                        () -> app.streamsState() == KafkaStreams.State.RUNNING);
                final HttpResponse<String> live = get(app, "health");
                assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
                assertThat(json(live).get("components").get("streams").asText()).isEqualTo("RUNNING");
                assertThat(get(app, "metrics").body()).contains("spillway_streams_client_running 1.0")
                        .contains("spillway_live 1.0");

                TestApps.produce(kafka.bootstrapServers(), url, new SequenceGenerator(8, 8, 16, 0.05, 3), 500);
                TestApps.await("the streams client to shut down", Duration.ofSeconds(120),
                        () -> !app.streamsState().isRunningOrRebalancing());
                final HttpResponse<String> dead = get(app, "health");
                assertThat(dead.statusCode()).as(dead.body()).isEqualTo(503);
                final JsonNode body = json(dead);
                assertThat(body.get("status").asText()).isEqualTo("DOWN");
                assertThat(body.get("components").get("streams").asText())
                        .isIn(KafkaStreams.State.PENDING_ERROR.name(), KafkaStreams.State.ERROR.name(),
                                KafkaStreams.State.PENDING_SHUTDOWN.name(), KafkaStreams.State.NOT_RUNNING.name());
                assertThat(body.get("problems").get(0).asText()).contains("Kafka Streams client");
                final String metrics = get(app, "metrics").body();
                assertThat(metrics).contains("spillway_streams_client_running 0.0").contains("spillway_live 0.0")
                        .containsPattern("spillway_streams_client_state\\{state=\"" + app.streamsState() + "\"} 1.0");
                assertThat(get(app, "ready").statusCode()).isEqualTo(503);
            }
        }
    }

    private static AppConfig withKafkaOverrides(final AppConfig c, final Map<String, Object> overrides) {
        return c.toBuilder().kafkaOverrides(overrides).build();
    }

    private HttpResponse<String> get(final SpillwayApp app, final String path) throws Exception {
        return http.send(HttpRequest.newBuilder(app.opsUri().resolve(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(final HttpResponse<String> response) throws Exception {
        return new ObjectMapper().readTree(response.body());
    }
}
