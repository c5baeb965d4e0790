package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away while the app trains and comes back on the same port with the same logs: the app keeps
 * running, and afterwards every input record was trained or dead-lettered exactly once (no loss, no duplicate
 * training), read back from the output topics under read_committed.
 */
class BrokerRestartIT {
    private static final int GOOD = 6_000;
    private static final int BAD_EVERY = 500;

    @TempDir
    Path dir;

    @Test
    void aBrokerRestartMidStreamLosesNothingAndTrainsNothingTwice() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            final AppConfig config = TestApps.config(bootstrap, url, dir.resolve("state"), 8);
            final int bad;
            try (SpillwayApp app = SpillwayApp.start(config)) {
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 41);
                final int[] badCount = new int[1];
                final Thread producer = new Thread(() -> produce(bootstrap, url, generator, badCount), "it-producer");
                producer.start();
                TestApps.await("training under way", Duration.ofSeconds(90), () -> app.trainer().eventsTrained() >= 1_000);
                final long before = app.trainer().eventsTrained();
                kafka.stopBroker();
                System.out.printf("BrokerRestartIT: broker stopped after %d events trained%n", before);
                Thread.sleep(6_000);
                kafka.startBroker();
                System.out.printf("BrokerRestartIT: broker back on %s after 6 s; %d events trained by then%n",
                        kafka.bootstrapServers(), app.trainer().eventsTrained());
                assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
                producer.join(120_000);
                assertThat(producer.isAlive()).isFalse();
                bad = badCount[0];
                TestApps.await("every record trained or dead-lettered", Duration.ofSeconds(150),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= GOOD + bad);
                Thread.sleep(2_000); // a duplicate hand-off would show up by now
                assertThat(app.streamsState().isRunningOrRebalancing()).isTrue();
                assertThat(app.brokerWatch().outages()).as("outages the app reported").isEqualTo(1);
                assertThat(app.brokerWatch().reachable()).isTrue();
                assertThat(app.trainer().failure()).isNull();
                assertThat(app.trainer().eventsTrained()).as("events trained").isEqualTo(GOOD);
                assertThat(app.counters().deadLettered()).as("records dead-lettered").isEqualTo(bad);
            }
            // What is durable on the topics agrees: each bad record dead-lettered once, each event predicted once.
            final List<ConsumerRecord<byte[], Event>> dead = TestApps.readAll(bootstrap, url, "events-dlq", null);
            final Set<String> sources = new HashSet<>();
            for (final ConsumerRecord<byte[], Event> r : dead) {
                sources.add(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION) + "/"
                        + DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET));
            }
            assertThat(dead).hasSize(bad);
            assertThat(sources).hasSize(bad);
            final List<ConsumerRecord<byte[], Prediction>> predictions = TestApps.readAll(bootstrap, url, "predictions",
                    Prediction.class);
            assertThat(predictions).as("one prediction per trained event but each key's first").hasSize(GOOD - 16);
        }
    }

    /** GOOD generated events, and a record of garbage bytes every BAD_EVERY events; retries through the outage. */
    private static void produce(final String bootstrap, final String url, final SequenceGenerator generator,
                                final int[] bad) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
            for (int i = 0; i < GOOD; i++) {
                final Event e = generator.next();
                p.send(new ProducerRecord<>("events", e.getEntityId(), s.serialize("events", e)));
                if (i % BAD_EVERY == BAD_EVERY - 1) {
                    p.send(new ProducerRecord<>("events", e.getEntityId(), new byte[] {9, 9, 9, 9}));
                    bad[0]++;
                }
                if (i % 100 == 0) {
                    Thread.sleep(15); // about 6,000 events/s: the stream is still flowing when the broker goes
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
