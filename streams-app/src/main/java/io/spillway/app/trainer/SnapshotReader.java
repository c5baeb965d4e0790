package io.spillway.app.trainer;

import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the newest complete snapshot of a model on the snapshots topic: all chunks of one version present,
 * and the assembled bytes matching the recorded SHA-256. Incomplete or corrupt versions are skipped with a
 * log line, never half-restored.
 */
public final class SnapshotReader {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReader.class);

    private SnapshotReader() {
    }

    /**
     * A complete snapshot.
     *
     * @param version model version
     * @param state the reassembled payload
     * @param chunkCount records it was published in
     * @param format the payload format
     */
    public record Snapshot(long version, byte[] state, int chunkCount, String format) {
    }

    public static Optional<Snapshot> newest(final Map<String, Object> clientConfig, final String registryUrl,
                                            final Map<String, Object> registryOverrides, final String topic,
                                            final String modelId) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final Map<Long, Map<Integer, ModelSnapshotChunk>> versions = new TreeMap<>();
        final Map<String, Object> serde = new HashMap<>(registryOverrides);
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             SpecificAvroDeserializer<ModelSnapshotChunk> deserializer =
                     new SpecificAvroDeserializer<>(ModelSnapshotChunk.class)) {
            deserializer.configure(serde, false);
            final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading snapshots from " + topic);
                }
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    if (r.value() == null) {
                        continue;
                    }
                    final ModelSnapshotChunk c = deserializer.deserialize(topic, r.value());
                    if (modelId.equals(c.getModelId())) {
                        versions.computeIfAbsent(c.getVersion(), v -> new HashMap<>()).put(c.getChunkIndex(), c);
                    }
                }
            }
        }
        for (final Long version : ((TreeMap<Long, Map<Integer, ModelSnapshotChunk>>) versions).descendingKeySet()) {
            final Map<Integer, ModelSnapshotChunk> chunks = versions.get(version);
            final Optional<byte[]> state = assemble(chunks);
            final ModelSnapshotChunk first = chunks.values().iterator().next();
            if (state.isPresent()) {
                return Optional.of(new Snapshot(version, state.get(), first.getChunkCount(), first.getFormat()));
            }
            LOG.warn("Skipping snapshot version {} of model {}: incomplete or its checksum does not match", version,
                    modelId);
        }
        return Optional.empty();
    }

    private static Optional<byte[]> assemble(final Map<Integer, ModelSnapshotChunk> chunks) {
        final ModelSnapshotChunk first = chunks.values().iterator().next();
        if (chunks.size() != first.getChunkCount()) {
            return Optional.empty();
        }
        final byte[] state = new byte[(int) first.getTotalBytes()];
        int at = 0;
        for (int i = 0; i < first.getChunkCount(); i++) {
            final ModelSnapshotChunk c = chunks.get(i);
            if (c == null || c.getTotalBytes() != first.getTotalBytes()) {
                return Optional.empty();
            }
            final ByteBuffer payload = c.getPayload().duplicate();
            final int n = payload.remaining();
            if (at + n > state.length) {
                return Optional.empty();
            }
            payload.get(state, at, n);
            at += n;
        }
        if (at != state.length || !sha256(state).equals(first.getSha256())) {
            return Optional.empty();
        }
        return Optional.of(state);
    }

    static String sha256(final byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
