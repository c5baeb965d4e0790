package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a real KRaft broker (in this JVM) and the registry over HTTP: N generated events and a
 * few bad records in; deltas, predictions, metrics and a snapshot out; the loss falls; every input
 * record is accounted for.
 */
class SpillwayAppIT {
    private static final int EVENTS = 12_000;

    @TempDir
    Path dir;

    private static double weightedLoss(final List<TrainingMetrics> steps) {
        double sum = 0;
        long events = 0;
        for (final TrainingMetrics t : steps) {
            if (Double.isFinite(t.getLoss())) {
                sum += t.getLoss() * t.getBatchEvents();
                events += t.getBatchEvents();
            }
        }
        return sum / events;
    }

    @Test
    void trainsOnARealBrokerAndAccountsForEveryRecord() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            try (SpillwayApp app = SpillwayApp.start(TestApps.config(kafka.bootstrapServers(), url,
                    dir.resolve("state"), 8))) {
                TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
                final Properties props = new Properties();
                props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 11);
                try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                        new ByteArraySerializer());
                     SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
                    serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
                    for (int i = 0; i < EVENTS; i++) {
                        final Event e = generator.next();
                        producer.send(new ProducerRecord<>("events", e.getEntityId(), serializer.serialize("events", e)));
                        if (i == 100) {
                            producer.send(new ProducerRecord<>("events", "entity-1", new byte[] {1, 2, 3, 4, 5, 6}));
                            producer.send(new ProducerRecord<>("events", "entity-2", new byte[] {0, 0, 0, 0x7f, 0x7f, 2}));
                            producer.send(new ProducerRecord<>("events", null, serializer.serialize("events", e)));
                        }
                    }
                }
                TestApps.await("every record trained or dead-lettered", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= EVENTS + 3);
                assertThat(app.counters().consumed()).isEqualTo(EVENTS + 3);
                assertThat(app.counters().deadLettered()).isEqualTo(3);
                assertThat(app.trainer().eventsTrained()).isEqualTo(EVENTS);
                assertThat(app.counters().consumed())
                        .isEqualTo(app.trainer().eventsTrained() + app.counters().deadLettered());
            }
            final String bootstrap = kafka.bootstrapServers();
            final List<ConsumerRecord<byte[], TrainingMetrics>> metrics = TestApps.readAll(bootstrap, url,
                    "training-metrics", TrainingMetrics.class);
            assertThat(metrics).isNotEmpty();
            final List<TrainingMetrics> m = metrics.stream().map(ConsumerRecord::value).toList();
            // Event-weighted mean loss of the first and the last quarter of the training steps.
            final int quarter = m.size() / 4;
            assertThat(quarter).as("training steps").isGreaterThanOrEqualTo(10);
            final double early = weightedLoss(m.subList(0, quarter));
            final double late = weightedLoss(m.subList(m.size() - quarter, m.size()));
            System.out.printf("SpillwayAppIT: prequential loss early %.3f, late %.3f over %d steps%n", early, late, m.size());
            assertThat(late).as("loss must fall: early %.3f, late %.3f", early, late).isLessThan(early * 0.9)
                    .isLessThan(0.7 * Math.log(8));
            assertThat(m.get(m.size() - 1).getEventsTrained()).isEqualTo(EVENTS);
            assertThat(m.get(m.size() - 1).getEventsDeadLettered()).isEqualTo(3);
            assertThat(m.get(m.size() - 1).getBackend()).isEqualTo("cpu");

            final List<ConsumerRecord<byte[], ModelDelta>> deltas = TestApps.readAll(bootstrap, url, "model-deltas",
                    ModelDelta.class);
            assertThat(deltas).isNotEmpty();
            assertThat(deltas.stream().map(r -> r.value().getVersion()).collect(Collectors.toSet()))
                    .hasSizeGreaterThan(10);
            assertThat(deltas.get(0).value().getUpdate().getIndices()).isNotEmpty();

            final List<ConsumerRecord<byte[], Prediction>> predictions = TestApps.readAll(bootstrap, url, "predictions",
                    Prediction.class);
            // Each key's first event only primes its state; every other event is predicted once.
            assertThat(predictions).hasSize(EVENTS - 16);

            final List<ConsumerRecord<byte[], ModelSnapshotChunk>> snapshots = TestApps.readAll(bootstrap, url,
                    "model-snapshots", ModelSnapshotChunk.class);
            assertThat(snapshots).isNotEmpty();
            assertThat(snapshots.get(0).value().getFormat()).isEqualTo(io.spillway.app.trainer.TrainerCheckpoint.FORMAT);

            // The chunk log is truncated behind the newest snapshot: what a restart would not read again is gone.
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of("bootstrap.servers", bootstrap))) {
                final org.apache.kafka.common.TopicPartition chunks = new org.apache.kafka.common.TopicPartition(
                        Topics.defaults().chunks(), 0);
                TestApps.await("the chunk log truncated", Duration.ofSeconds(10), () -> {
                    try {
                        return admin.listOffsets(Map.of(chunks, org.apache.kafka.clients.admin.OffsetSpec.earliest()))
                                .all().get().get(chunks).offset() > 0;
                    } catch (final Exception e) {
                        return false;
                    }
                });
            }

            final List<ConsumerRecord<byte[], Event>> dead = TestApps.readAll(bootstrap, url, "events-dlq", null);
            assertThat(dead).extracting(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                    .containsExactlyInAnyOrder("wrong-magic-byte", "unknown-schema-id", "missing-key");
        }
    }
}
