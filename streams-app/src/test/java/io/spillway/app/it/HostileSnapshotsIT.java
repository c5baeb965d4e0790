package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.SnapshotRefusal;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile records on the snapshots topic, of this model and of another: undecodable values (with this model's key,
 * another model's, a key that is no snapshot key), chunks claiming {@code totalBytes} of 2^31-1 and -1, and the newest real snapshot's
 * chunk overwritten with a damaged payload. The app still starts, reports each refusal with its place and reason
 * (and in its metrics), restores the snapshot before the damaged one, retrains the chunk log from there and trains
 * on; another model over the same topic starts fresh.
 */
@Tag("hostile-input")
class HostileSnapshotsIT {
    /** Confluent's magic byte, a schema id the registry does not know, and no Avro body. */
    private static final byte[] GARBAGE = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 'n', 'o', 't', ' ', 'a', 'v', 'r', 'o'};

    @TempDir
    Path dir;

    private static byte[] key(final String model, final long version, final int chunk) {
        return (model + "/" + version + "/" + chunk).getBytes(StandardCharsets.UTF_8);
    }

    private static ModelSnapshotChunk claiming(final String model, final long version, final long totalBytes) {
        return ModelSnapshotChunk.newBuilder().setModelId(model).setInstanceId("mallory").setVersion(version)
                .setFormat("spillway-trainer-state-v3").setChunkIndex(0).setChunkCount(1).setTotalBytes(totalBytes)
                .setSha256("0".repeat(64)).setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3})).setCreatedAtMs(0).build();
    }

    @Test
    void hostileSnapshotRecordsNeverStopAStartAndTheNewestGoodVersionIsRestored() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final String bootstrap = kafka.bootstrapServers();
            final AppConfig config = TestApps.config(bootstrap, url, dir.resolve("state"), 8);
            final String topic = config.topics().snapshots();
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 23);
            final long version;
            try (SpillwayApp first = SpillwayApp.start(config)) {
                TestApps.produce(bootstrap, url, generator, 2_048);
                TestApps.await("the first run trained", Duration.ofSeconds(120),
                        () -> first.trainer().eventsTrained() == 2_048);
                version = first.learner().version();
            }
            final Map<String, Object> client = Map.of("bootstrap.servers", bootstrap);
            final SnapshotReader.Snapshot newest = SnapshotReader.newest(client, url, Map.of(), topic, "it-model")
                    .orElseThrow();
            assertThat(newest.version()).isEqualTo(version);
            final List<ConsumerRecord<byte[], ModelSnapshotChunk>> onTopic = TestApps.readAll(bootstrap, url, topic,
                    ModelSnapshotChunk.class);
            final long fallback = onTopic.stream().filter(r -> r.value() != null)
                    .mapToLong(r -> r.value().getVersion()).filter(v -> v < version).max().orElseThrow();
            final ConsumerRecord<byte[], ModelSnapshotChunk> newestChunk0 = onTopic.stream()
                    .filter(r -> r.value() != null && r.value().getVersion() == version && r.value().getChunkIndex() == 0)
                    .findFirst().orElseThrow();

            final RecordMetadata garbageOfThisModel;
            final RecordMetadata huge;
            final RecordMetadata negative;
            final RecordMetadata unkeyed;
            final RecordMetadata damaged;
            final Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(),
                    new ByteArraySerializer());
                 SpecificAvroSerializer<ModelSnapshotChunk> avro = new SpecificAvroSerializer<>(ModelSnapshotChunk.class)) {
                avro.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
                garbageOfThisModel = send(p, topic, key("it-model", version + 100, 0), GARBAGE);
                send(p, topic, key("other-model", 7, 0), GARBAGE);
                // (a compacted topic takes no record without a key)
                unkeyed = send(p, topic, "not/a snapshot key".getBytes(StandardCharsets.UTF_8), new byte[] {0, 0});
                huge = send(p, topic, key("it-model", version + 200, 0),
                        avro.serialize(topic, claiming("it-model", version + 200, Integer.MAX_VALUE)));
                negative = send(p, topic, key("it-model", version + 300, 0),
                        avro.serialize(topic, claiming("it-model", version + 300, -1)));
                send(p, topic, key("other-model", 8, 0), avro.serialize(topic, claiming("other-model", 8, Integer.MAX_VALUE)));
                send(p, topic, key("other-model", 9, 0), avro.serialize(topic, claiming("other-model", 9, -1)));
                // the newest real snapshot's first chunk again, a payload byte flipped: its checksum no longer holds
                final ModelSnapshotChunk original = newestChunk0.value();
                final ByteBuffer payload = original.getPayload().duplicate();
                final byte[] bytes = new byte[payload.remaining()];
                payload.get(bytes);
                bytes[bytes.length / 2] ^= 0x10;
                damaged = send(p, topic, newestChunk0.key(), avro.serialize(topic,
                        ModelSnapshotChunk.newBuilder(original).setPayload(ByteBuffer.wrap(bytes)).build()));
            }

            try (SpillwayApp second = SpillwayApp.start(config)) {
                assertThat(second.resumedFrom().snapshotVersion()).as("the snapshot before the damaged one")
                        .isEqualTo(fallback);
                assertThat(second.resumedFrom().eventsTrained()).isPositive();
                final List<SnapshotRefusal> refusals = second.snapshotRefusals();
                assertThat(refusals).filteredOn(r -> !r.ofVersion()).extracting(SnapshotRefusal::offset)
                        .contains(garbageOfThisModel.offset(), unkeyed.offset(), huge.offset(), negative.offset());
                assertThat(refusals).filteredOn(r -> !r.ofVersion() && r.offset() == huge.offset()
                        && r.partition() == huge.partition()).singleElement()
                        .satisfies(r -> assertThat(r.reason()).contains("totalBytes 2147483647 outside"));
                assertThat(refusals).filteredOn(r -> !r.ofVersion() && r.offset() == negative.offset()
                        && r.partition() == negative.partition()).singleElement()
                        .satisfies(r -> assertThat(r.reason()).contains("totalBytes -1 outside"));
                assertThat(refusals).filteredOn(SnapshotRefusal::ofVersion).extracting(SnapshotRefusal::version)
                        .containsExactly(version + 300, version + 200, version + 100, version);
                assertThat(refusals).filteredOn(r -> r.version() == version).singleElement()
                        .satisfies(r -> {
                            assertThat(r.reason()).contains("checksum mismatch");
                            assertThat(r.partition()).isEqualTo(damaged.partition());
                        });
                assertThat(refusals).as("another model's records are not judged").noneMatch(r -> r.reason()
                        .contains("other-model"));
                assertThat(second.ops().scrape()).containsPattern("spillway_snapshot_refusals_total(\\{[^}]*})? "
                        + refusals.size() + "\\.0");

                // the chunk log still holds everything after the fallback: the steps after it are trained again
                TestApps.await("the log after the fallback retrained", Duration.ofSeconds(120),
                        () -> second.learner().version() >= version);
                TestApps.produce(bootstrap, url, generator, 512);
                TestApps.await("new events trained", Duration.ofSeconds(120),
                        () -> second.counters().consumed() >= 512 && second.learner().version() > version);
                assertThat(second.streamsState()).isEqualTo(KafkaStreams.State.RUNNING);
            }

            // another model on the same topic: its only records are hostile, so it starts fresh, and trains
            final AppConfig other = config.toBuilder().applicationId("spillway-it-other-" + System.nanoTime())
                    .stateDir(dir.resolve("state-other")).topics(new Topics("events", "events-dlq", "other-deltas",
                            topic, "other-metrics", "other-predictions", "other-chunks"))
                    .trainer(TrainerSettings.defaults("other-model", "it-instance").withBatchKeys(2)
                            .withSnapshotEvery(20)).build();
            try (SpillwayApp fresh = SpillwayApp.start(other)) {
                assertThat(fresh.resumedFrom().snapshotVersion()).isEqualTo(-1);
                assertThat(fresh.snapshotRefusals()).filteredOn(SnapshotRefusal::ofVersion)
                        .extracting(SnapshotRefusal::version).containsExactly(9L, 8L, 7L);
                TestApps.await("the other model trains", Duration.ofSeconds(120),
                        () -> fresh.learner().version() > 0);
            }
        }
    }

    private static RecordMetadata send(final KafkaProducer<byte[], byte[]> p, final String topic, final byte[] key,
                                       final byte[] value) throws Exception {
        final Future<RecordMetadata> sent = p.send(new ProducerRecord<>(topic, key, value));
        p.flush();
        return sent.get();
    }
}
