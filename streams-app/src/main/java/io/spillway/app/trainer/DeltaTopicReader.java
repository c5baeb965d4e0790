package io.spillway.app.trainer;

import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How a read-only replica ({@code follow}, {@code serve}) reads the deltas topic after restoring a snapshot: every
 * partition, {@code read_committed}, from the start or, for a split snapshot, from the positions it includes; and
 * the records' deserializer.
 */
public final class DeltaTopicReader {
    /** A consumer assigned the topic's partitions and positioned, with those partitions. */
    public record Opened(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
    }

    private DeltaTopicReader() {
    }

    /**
     * @param clientId the consumer's client id, or null for the one in {@code clientConfig} (or Kafka's default)
     * @param positions per partition, the offset a split snapshot includes the log before; empty otherwise
     */
    public static Opened open(final Map<String, Object> clientConfig, final String clientId, final String topic,
                              final Map<Integer, Long> positions) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        if (clientId != null) {
            props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        }
        final KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        try {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            for (final TopicPartition p : partitions) {
                final Long from = positions.get(p.partition());
                if (from != null) {
                    consumer.seek(p, from);
                }
            }
            return new Opened(consumer, partitions);
        } catch (final RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** The deltas' deserializer, through the registry. */
    public static SpecificAvroDeserializer<ModelDelta> deserializer(final String registryUrl,
                                                                   final Map<String, Object> registryOverrides) {
        final SpecificAvroDeserializer<ModelDelta> deserializer = new SpecificAvroDeserializer<>(ModelDelta.class);
        final Map<String, Object> serde = new HashMap<>(registryOverrides);
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
        deserializer.configure(serde, false);
        return deserializer;
    }
}
