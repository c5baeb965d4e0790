package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean stop publishes a snapshot; a restart restores it (same weights, optimizer state, carried per-key
 * states, version) and continues with the input offsets Kafka Streams committed: nothing is trained twice.
 */
class RestartFromSnapshotIT {
    @TempDir
    Path dir;

    private static void produce(final String bootstrap, final String registry, final SequenceGenerator g,
                                final int n) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            for (int i = 0; i < n; i++) {
                final Event e = g.next();
                p.send(new ProducerRecord<>("events", e.getEntityId(), s.serialize("events", e)));
            }
        }
    }

    @Test
    void aRestartContinuesFromTheSnapshotWithoutRetraining() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig config = TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8);
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 21);
            final Map<String, float[]> before;
            final long version;
            try (SpillwayApp first = SpillwayApp.start(config)) {
                produce(kafka.bootstrapServers(), url, generator, 2_048);
                TestApps.await("the first batch trained", Duration.ofSeconds(90),
                        () -> first.trainer().eventsTrained() == 2_048);
                before = first.learner().parameters();
                version = first.learner().version();
            }
            assertThat(version).isPositive();
            try (SpillwayApp second = SpillwayApp.start(config)) {
                assertThat(second.learner().version()).isEqualTo(version);
                final Map<String, float[]> restored = second.learner().parameters();
                for (final Map.Entry<String, float[]> e : before.entrySet()) {
                    assertThat(restored.get(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
                }
                produce(kafka.bootstrapServers(), url, generator, 1_024);
                TestApps.await("the second batch trained", Duration.ofSeconds(90),
                        () -> second.trainer().eventsTrained() >= 1_024);
                Thread.sleep(1_500); // anything retrained from before the restart would show up by now
                assertThat(second.trainer().eventsTrained()).isEqualTo(1_024);
                assertThat(second.counters().consumed()).isEqualTo(1_024);
                assertThat(second.learner().version()).isGreaterThan(version);
            }
        }
    }
}
