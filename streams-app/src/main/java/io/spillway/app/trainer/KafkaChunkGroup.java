package io.spillway.app.trainer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunk topic shared by a consumer group of trainers (split training): read under read_committed, so only
 * chunks whose topology transaction committed are trained, from the offsets the group committed (with the
 * trainers' transactions, see {@link KafkaTrainingSink#commitTransaction}), or the beginning.
 */
public final class KafkaChunkGroup implements ChunkGroup {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaChunkGroup.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final Map<String, Object> clientConfig;
    private int partitions;
    private Admin admin;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security)
     * @param groupId the trainers' consumer group (one per application id)
     * @param instance names the consumer's client id
     * @param maxPollRecords entries read ahead per poll at most
     */
    public KafkaChunkGroup(final Map<String, Object> clientConfig, final String topic, final String groupId,
                           final String instance, final int maxPollRecords) {
        final Properties props = KafkaChunkLog.readerProps(clientConfig, maxPollRecords, "earliest",
                "spillway-trainer-" + instance);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.clientConfig = Map.copyOf(clientConfig);
    }

    @Override
    public void subscribe(final Assignment listener) {
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(final Collection<TopicPartition> revoked) {
                listener.revoked(numbers(revoked));
            }

            @Override
            public void onPartitionsAssigned(final Collection<TopicPartition> assigned) {
                listener.assigned(assignment());
            }

            @Override
            public void onPartitionsLost(final Collection<TopicPartition> lost) {
                listener.revoked(numbers(lost));
            }
        });
    }

    private static List<Integer> numbers(final Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).sorted().toList();
    }

    @Override
    public List<ChunkSource.Entry> poll(final Duration timeout) {
        final List<ChunkSource.Entry> entries = new ArrayList<>();
        for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            entries.add(KafkaChunkLog.entry(r));
        }
        return entries;
    }

    @Override
    public List<Integer> assignment() {
        return numbers(consumer.assignment());
    }

    @Override
    public long position(final int partition) {
        return consumer.position(new TopicPartition(topic, partition));
    }

    @Override
    public int partitionCount() {
        if (partitions <= 0) {
            partitions = consumer.partitionsFor(topic).size();
        }
        return partitions;
    }

    /** The group's metadata, for committing consumed offsets in a producer's transaction. */
    ConsumerGroupMetadata groupMetadata() {
        return consumer.groupMetadata();
    }

    /** The chunk topic. */
    String topic() {
        return topic;
    }

    @Override
    public void truncateBefore(final Map<Integer, Long> offsets) {
        if (admin == null) {
            admin = Admin.create(clientConfig);
        }
        final Map<TopicPartition, RecordsToDelete> upTo = new HashMap<>();
        offsets.forEach((p, offset) -> upTo.put(new TopicPartition(topic, p), RecordsToDelete.beforeOffset(offset)));
        admin.deleteRecords(upTo).all().whenComplete((ok, error) -> {
            if (error != null) {
                LOG.warn("Could not truncate the chunk log behind the trained offsets: {}", error.toString());
            }
        });
    }

    @Override
    public void close() {
        consumer.close();
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
