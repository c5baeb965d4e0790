package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.spillway.app.Formats;
import io.spillway.app.SpillwayApp;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confluent's own Python client (Debian's python3-confluent-kafka with python3-avro) talks to Spillway
 * through the project's registry and a real broker: it produces Avro events that the app trains on, and
 * decodes a TrainingMetrics record the app produced.
 */
class PythonInteropIT {
    private static final int EVENTS = 3_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void requirePeer() throws Exception {
        ConfluentPeer.assumeAvailable();
    }

    @Test
    void confluentsPythonClientProducesEventsAndReadsTheAppsMetrics() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             SpillwayApp app = SpillwayApp.start(TestApps.config(kafka.bootstrapServers(), registry.url().toString(),
                     dir.resolve("state"), 8))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
            final List<String> produced = python("produce", bootstrap, url, "events", Integer.toString(EVENTS), "6");
            assertThat(produced).contains("{\"produced\": " + EVENTS + "}");
            TestApps.await("the Python client's events trained", Duration.ofSeconds(90),
                    () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= EVENTS);
            assertThat(app.counters().deadLettered()).as("Confluent-encoded events must all be valid").isZero();
            assertThat(app.trainer().eventsTrained()).isEqualTo(EVENTS);

            final List<String> lines = python("consume", bootstrap, url, "training-metrics", "3", "60");
            assertThat(lines).hasSize(3);
            // Python's json writes NaN for the loss of a batch that only primed new keys (no targets yet).
            final ObjectMapper json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
            final List<JsonNode> records = new ArrayList<>();
            for (final String line : lines) {
                records.add(json.readTree(line));
            }
            assertThat(records).allSatisfy(m -> {
                assertThat(m.get("modelId").asText()).isEqualTo("it-model");
                assertThat(m.get("backend").asText()).isEqualTo("cpu");
                assertThat(m.get("eventsTrained").asLong()).isPositive();
            });
            assertThat(records).anySatisfy(m -> assertThat(m.get("loss").asDouble()).isPositive().isLessThan(10));

            // Issue 17: Confluent's current DeserializingConsumer reads the default (text) output keys as strings
            assertKeysDecode("deserializing-consume", bootstrap, url, json);
        }
    }

    /**
     * Issue 17: the legacy {@code AvroProducer} always writes Avro keys, which were all dead-lettered as
     * {@code invalid-key}; its {@code AvroConsumer} decodes every key as Avro, so it could not read the app's
     * text-keyed outputs. With the default {@code --key-format auto} and {@code --output-key-format avro}, both work.
     */
    @Test
    void confluentsAvroProducerAndAvroConsumerWorkWithAvroKeys() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            try (SpillwayApp app = SpillwayApp.start(TestApps.withFormats(TestApps.config(bootstrap, url,
                    dir.resolve("state"), 8), new Formats(KeyFormat.AUTO, null, KeyFormat.AVRO)))) {
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                final int events = 2_000;
                assertThat(python("avro-produce", bootstrap, url, "events", Integer.toString(events), "4"))
                        .contains("{\"produced\": " + events + "}");
                TestApps.await("the AvroProducer's events trained", Duration.ofSeconds(90),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= events);
                assertThat(app.counters().deadLettered()).as("Avro keys are entity ids, not invalid keys").isZero();
                assertThat(app.trainer().eventsTrained()).isEqualTo(events);
                final ObjectMapper json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
                assertKeysDecode("avro-consume", bootstrap, url, json);
            }
        }
    }

    /**
     * Confluent's Python consumer ({@code mode} of confluent_peer.py) reads training-metrics and predictions, their
     * keys decoded: the model id, and each prediction's entity id.
     */
    private void assertKeysDecode(final String mode, final String bootstrap, final String url, final ObjectMapper json)
            throws Exception {
        assertThat(python(mode, bootstrap, url, "training-metrics", "2", "60")).hasSize(2).allSatisfy(line -> {
            final JsonNode m = json.readTree(line);
            assertThat(m.get("key").asText()).isEqualTo("it-model");
            assertThat(m.get("value").get("modelId").asText()).isEqualTo("it-model");
        });
        assertThat(python(mode, bootstrap, url, "predictions", "20", "60")).hasSize(20).allSatisfy(line -> {
            final JsonNode p = json.readTree(line);
            assertThat(p.get("key").asText()).startsWith("py-").isEqualTo(p.get("value").get("entityId").asText());
        });
    }

    private List<String> python(final String... args) throws Exception {
        return ConfluentPeer.run(dir, args);
    }
}
