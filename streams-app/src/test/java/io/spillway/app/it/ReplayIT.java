package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import io.spillway.app.cli.SpillwayCli;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.replay.DebianPackages;
import io.spillway.app.replay.InterleavedDocuments;
import io.spillway.app.replay.RealDataset;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spillway replay} through a real KRaft broker and the project's registry: every event arrives, per key in order. */
class ReplayIT {

    @Test
    void replaysTheKernelDocumentationToTheEventsTopic(@TempDir final Path dir) throws Exception {
        assumePeer(DebianPackages.installed("linux-doc-6.1"),
                "Debian package linux-doc-6.1 is not installed: skipping (apt-get install linux-doc-6.1 to run it)");
        final int n = 3_000;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final long start = System.nanoTime();
            final int exit = SpillwayCli.execute("replay", "--dataset", "linux-doc", "--bootstrap-servers",
                    kafka.bootstrapServers(), "--schema-registry-url", registry.url().toString(), "--topic", "events",
                    "--limit", String.valueOf(n), "--rate", "3000", "--partitions", "2");
            assertThat(exit).isZero();
            assertThat((System.nanoTime() - start) / 1e9).as("paced at 3000 events/s").isGreaterThan(0.99);

            final Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-it");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            final Map<String, List<Integer>> got = new HashMap<>();
            int count = 0;
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                    new ByteArrayDeserializer());
                 SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class)) {
                deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url().toString()), false);
                consumer.subscribe(List.of("events"));
                final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (count < n && System.nanoTime() < deadline) {
                    for (final ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        final Event e = deserializer.deserialize("events", r.value());
                        assertThat(r.key()).isEqualTo(e.getEntityId());
                        got.computeIfAbsent(e.getEntityId(), k -> new ArrayList<>()).add(e.getEventType());
                        count++;
                    }
                }
            }
            assertThat(count).isEqualTo(n);
            final InterleavedDocuments expectedStream = new InterleavedDocuments(RealDataset.LINUX_DOC.documents(), 16,
                    4096, 1);
            final Map<String, List<Integer>> expected = new HashMap<>();
            for (int i = 0; i < n; i++) {
                final Event e = expectedStream.next();
                expected.computeIfAbsent(e.getEntityId(), k -> new ArrayList<>()).add(e.getEventType());
            }
            assertThat(got).isEqualTo(expected);
            assertThat(got).hasSize(16);
        }
    }
}
