package io.spillway.app.cli;

import io.spillway.app.topology.DeadLetterHeaders;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Counts the records on the dead-letter topic by reason, read from the beginning without joining a consumer group.
 * The topic is the count to trust: the metrics topic's figure is written with each training step, so it misses the
 * dead letters since the last one (all of them when nothing has been trained), and it is each instance's count since
 * it started.
 */
final class DeadLetterTopicReader {
    /**
     * @param exists whether the topic exists
     * @param total committed dead letters read (all of them when {@code complete})
     * @param byReason counts by the reason header, sorted by reason
     * @param complete false when reading stopped at the time budget before the end of the topic
     * @param newestTimestampMs the largest record timestamp read, -1 when none
     * @param newestReason the reason of that record, null when none
     */
    record Count(String topic, boolean exists, long total, Map<String, Long> byReason, boolean complete,
                 long newestTimestampMs, String newestReason) {
    }

    private DeadLetterTopicReader() {
    }

    /**
     * @param sourceTopic only dead letters of records from this input topic (the source-topic header), or null for all
     * @param budget how long to read at most
     */
    static Count read(final String bootstrapServers, final String topic, final String sourceTopic, final Duration budget) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        // dead letters of aborted transactions were never delivered: not counted
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                return new Count(topic, false, 0, Map.of(), true, -1, null);
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            final Map<String, Long> byReason = new TreeMap<>();
            long total = 0;
            long newest = -1;
            String newestReason = null;
            final long deadline = System.nanoTime() + budget.toNanos();
            boolean behind = partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p));
            while (behind && System.nanoTime() < deadline) {
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition())) || (sourceTopic != null
                            && !sourceTopic.equals(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_TOPIC)))) {
                        continue;
                    }
                    final String reason = DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON);
                    final String shown = reason == null ? "(no reason header)" : reason;
                    byReason.merge(shown, 1L, Long::sum);
                    total++;
                    if (r.timestamp() > newest) {
                        newest = r.timestamp();
                        newestReason = shown;
                    }
                }
                behind = partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p));
            }
            return new Count(topic, true, total, byReason, !behind, newest, newestReason);
        }
    }
}
