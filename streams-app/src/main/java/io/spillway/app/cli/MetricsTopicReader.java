package io.spillway.app.cli;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads every TrainingMetrics record currently on the metrics topic, without joining a consumer group. */
final class MetricsTopicReader {
    private MetricsTopicReader() {
    }

    static List<TrainingMetrics> readAll(final String bootstrapServers, final String registryUrl, final String topic,
                                         final String modelId) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final List<TrainingMetrics> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             SpecificAvroDeserializer<TrainingMetrics> deserializer = new SpecificAvroDeserializer<>(TrainingMetrics.class)) {
            deserializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
            final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    final TrainingMetrics m = deserializer.deserialize(topic, r.value());
                    if (m != null && (modelId == null || modelId.equals(m.getModelId()))) {
                        out.add(m);
                    }
                }
            }
        }
        out.sort(Comparator.comparingLong(TrainingMetrics::getTimestampMs).thenComparingLong(TrainingMetrics::getModelVersion));
        return out;
    }

    static TrainingFigures figures(final TrainingMetrics m) {
        return new TrainingFigures(m.getTimestampMs(), m.getModelVersion(), m.getLoss(), m.getAccuracy(),
                m.getEventsPerSecond(), m.getEventsTrained(), m.getConsumerLag() == null ? -1 : m.getConsumerLag(),
                m.getQueueDepth(), m.getPeakDeviceBytes(), m.getOffChipBytes(), m.getTransferBytes(),
                m.getRecomputeRatio(), m.getOptimizerWindowBytes(), m.getDivergedSteps(), m.getBackend(),
                m.getOptimizer(), m.getCheckpointSchedule(),
                m.getPredictionLoss() == null ? Double.NaN : m.getPredictionLoss(),
                m.getPredictionAccuracy() == null ? Double.NaN : m.getPredictionAccuracy(),
                m.getMixturePairs() == null ? -1 : m.getMixturePairs());
    }
}
