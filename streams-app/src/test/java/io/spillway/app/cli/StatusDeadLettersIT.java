package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.it.TestApps;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code status} counts the dead letters on the dead-letter topic, so it shows those that came after the last
 * training step: first when every record so far was dead-lettered (no step, no metrics record at all), then when
 * dead letters follow the last step (whose metrics record counted fewer).
 */
class StatusDeadLettersIT {
    @TempDir
    Path dir;

    @Test
    void statusCountsTheDeadLettersThatCameAfterTheLastTrainingStep() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            final AppConfig config = TestApps.config(bootstrap, url, dir.resolve("state"), 8);
            try (SpillwayApp app = SpillwayApp.start(config)) {
                TestApps.awaitLeaders(bootstrap, config.topics().all());
                produceUnframed(bootstrap, 0, 7);
                TestApps.await("7 dead letters", Duration.ofSeconds(60), () -> app.counters().deadLettered() == 7);
                // the app counts a dead letter when it sends it; status reads committed records, which appear when
                // the task's transaction commits, so wait for status to see them all
                final Status before = awaitStatus(bootstrap, url, "dead letters   7 ");
                assertThat(before.exit()).as(before.text()).isEqualTo(3);
                assertThat(before.text()).contains("No training metrics yet",
                        "dead letters   7 on events-dlq (wrong-magic-byte 7)", "newest dead letter  wrong-magic-byte");

                TestApps.produce(bootstrap, url, new SequenceGenerator(4, 8, 16, 0.05, 3), 300);
                TestApps.await("300 events trained", Duration.ofSeconds(90), () -> app.trainer().eventsTrained() == 300);
                // the trainer is idle now: dead letters make no training step, so no metrics record counts these
                produceUnframed(bootstrap, 100, 3);
                TestApps.await("10 dead letters", Duration.ofSeconds(60), () -> app.counters().deadLettered() == 10);
                final List<TrainingMetrics> metrics = MetricsTopicReader.readAll(bootstrap, url, "training-metrics", null);
                assertThat(metrics.get(metrics.size() - 1).getEventsDeadLettered()).isEqualTo(7);

                final Status after = awaitStatus(bootstrap, url, "dead letters   10 ");
                assertThat(after.exit()).as(after.text()).isZero();
                assertThat(after.text()).contains("events trained 300",
                        "dead letters   10 on events-dlq (wrong-magic-byte 10); the last training step had counted 7");
                assertThat(status(bootstrap, url, "--events-topic=other").text())
                        .contains("dead letters   0 on events-dlq;");
            }
        }
    }

    private record Status(int exit, String text) {
    }

    /** Runs {@code status} until its text contains {@code expected} (or 60 s pass) and returns the last run. */
    private static Status awaitStatus(final String bootstrap, final String registry, final String expected)
            throws InterruptedException {
        final Status[] last = new Status[1];
        try {
            TestApps.await("status showing '" + expected + "'", Duration.ofSeconds(60), () -> {
                last[0] = status(bootstrap, registry);
                return last[0].text().contains(expected);
            });
        } catch (AssertionError notYet) {
            // fall through: the assertions below report what status last printed
        }
        return last[0];
    }

    private static Status status(final String bootstrap, final String registry, final String... more) {
        final PrintStream original = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final String[] args = new String[2 + more.length + 1];
        args[0] = "status";
        args[1] = "--bootstrap-servers=" + bootstrap;
        args[2] = "--schema-registry-url=" + registry;
        System.arraycopy(more, 0, args, 3, more.length);
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            final int exit = SpillwayCli.execute(args);
            return new Status(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    /** Values without the Confluent framing: the topology dead-letters each as wrong-magic-byte. */
    private static void produceUnframed(final String bootstrap, final int first, final int n) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = first; i < first + n; i++) {
                p.send(new ProducerRecord<>("events", ("bad-" + i).getBytes(StandardCharsets.UTF_8), new byte[] {7, 7, 7}));
            }
        }
    }
}
