package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, item 6: while the schema registry is down, a record whose writer schema is not cached used to hold the
 * stream thread in retries for up to two minutes, stalling every partition. Now only its key waits (in order), the
 * other keys train, the wait shows in the metrics, and everything trains once the registry is back.
 */
class RegistryOutageIT {
    private static final int PER_KEY = 96;

    @TempDir
    Path dir;

    private static Event event(final String key, final long ts, final int type) {
        return Event.newBuilder().setEntityId(key).setTimestampMs(ts).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(List.of(1)).setValues(List.of(0.5f)).build())
                .setLabel(null).build();
    }

    @Test
    void onlyTheKeysThatNeedTheRegistryWaitAndEverythingTrainsWhenItIsBack() throws Exception {
        final Path store = dir.resolve("schemas.jsonl");
        SchemaRegistryServer registry = SchemaRegistryServer.start(null, store);
        final int port = registry.url().getPort();
        final String url = registry.url().toString();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
            final Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            final AppConfig base = TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8);
            // a snapshot every step: every output type's schema is registered before the outage
            final AppConfig config = base.withTrainer(base.trainer().withSnapshotEvery(1));
            try (SpillwayApp app = SpillwayApp.start(config);
                 KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                         new ByteArraySerializer())) {
                TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
                final List<String> keys = List.of("a", "b", "c", "d");
                // A chunk of every key: the app caches Event's schema id, trains and publishes every kind of output.
                for (int t = 0; t < config.chunkLength(); t++) {
                    for (final String key : keys) {
                        producer.send(new ProducerRecord<>("events", key,
                                serializer.serialize("events", event(key, t, t % 8))));
                    }
                }
                producer.flush();
                TestApps.await("a snapshot published", Duration.ofSeconds(90), () -> !TestApps.readAll(
                        kafka.bootstrapServers(), url, "model-snapshots", null).isEmpty());
                final long before = keys.size() * config.chunkLength();
                // A newer writer schema (Event plus an optional field) that the app has not fetched yet.
                final Schema evolved = new Schema.Parser().parse(Event.getClassSchema().toString()
                        .replaceFirst("]}$", ",{\"name\":\"extra\",\"type\":[\"null\",\"string\"],\"default\":null}]}"));
                final SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of());
                final int evolvedId = client.register("events-value", evolved);
                client.close();
                registry.close();

                final byte[] plain = serializer.serialize("events", event("d", PER_KEY, 2));
                producer.send(new ProducerRecord<>("events", "d", ByteBuffer.allocate(plain.length + 1).put((byte) 0)
                        .putInt(evolvedId).put(plain, 5, plain.length - 5).put((byte) 0).array()));
                for (int t = PER_KEY + 1; t <= 2 * PER_KEY; t++) {
                    for (final String key : keys) {
                        producer.send(new ProducerRecord<>("events", key,
                                serializer.serialize("events", event(key, t, t % 8))));
                    }
                }
                producer.flush();
                final long total = before + PER_KEY * keys.size() + 1;
                TestApps.await("the keys that do not need the registry trained", Duration.ofSeconds(90),
                        () -> app.trainer().eventsTrained() >= before + 3 * PER_KEY);
                assertThat(app.counters().waitingForRegistry()).as("d's records wait, in order").isEqualTo(PER_KEY + 1);
                assertThat(app.counters().deadLettered()).isZero();
                assertThat(app.counters().consumed()).isEqualTo(total);
                assertThat(app.counters().consumed()).isEqualTo(app.counters().accepted() + app.counters().deadLettered()
                        + app.counters().waitingForRegistry());
                final String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(app.opsUri() + "metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("spillway_registry_waiting_records " + (double) (PER_KEY + 1))
                        .containsPattern("spillway_registry_unavailable_total [1-9]");

                registry = SchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", port), store);
                TestApps.await("every record trained once the registry is back", Duration.ofSeconds(90),
                        () -> app.trainer().eventsTrained() == total);
                assertThat(app.counters().waitingForRegistry()).isZero();
                assertThat(app.counters().deadLettered()).isZero();
                assertThat(app.streamsState()).isEqualTo(KafkaStreams.State.RUNNING);
            }
        } finally {
            registry.close();
        }
    }
}
