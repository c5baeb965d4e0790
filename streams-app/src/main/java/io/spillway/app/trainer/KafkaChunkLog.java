package io.spillway.app.trainer;

import io.spillway.app.topology.ChunkRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunk topic read as a log: a plain consumer (no group, no committed offsets: the trainer's snapshots
 * hold its position) of the topic's single partition, under read_committed, so only chunks whose topology
 * transaction committed are ever trained, in offset order.
 */
public final class KafkaChunkLog implements ChunkSource {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaChunkLog.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final Map<String, Object> clientConfig;
    private Admin admin;
    private volatile long readPosition;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security)
     * @param topic the chunk topic; it must have exactly one partition
     * @param startOffset where to start reading, or -1 for the beginning of the log
     * @param maxPollRecords entries read ahead per poll at most
     */
    public KafkaChunkLog(final Map<String, Object> clientConfig, final String topic, final long startOffset,
                         final int maxPollRecords) {
        this.clientConfig = Map.copyOf(clientConfig);
        // Never skip silently: a position the log no longer holds is the trainer's to resolve (from a snapshot).
        final Properties props = readerProps(clientConfig, maxPollRecords, "none", "spillway-trainer-chunks");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        try {
            final List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60));
            if (partitions.size() != 1) {
                throw new IllegalStateException("the chunk topic " + topic + " must have exactly one partition (it is "
                        + "the training order), it has " + partitions.size());
            }
            this.partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            if (startOffset < 0) {
                consumer.seekToBeginning(List.of(partition));
            } else {
                consumer.seek(partition, startOffset);
            }
            this.readPosition = Math.max(0, startOffset);
        } catch (final RuntimeException e) {
            consumer.close();
            throw e;
        }
        LOG.info("Trainer reads {} from {}", topic, startOffset < 0 ? "the beginning" : "offset " + startOffset);
    }

    @Override
    public List<Entry> poll(final Duration timeout) {
        final List<Entry> entries = new ArrayList<>();
        final ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(timeout);
        } catch (final OffsetOutOfRangeException e) {
            throw new TruncatedException("the chunk log " + partition + " no longer holds offset "
                    + e.offsetOutOfRangePartitions().get(partition) + " (truncated behind a newer snapshot)", e);
        }
        for (final ConsumerRecord<byte[], byte[]> r : records) {
            entries.add(entry(r));
        }
        readPosition = consumer.position(partition);
        return entries;
    }

    /**
     * Consumer settings of a trainer's chunk-log reader: read_committed (only chunks whose topology transaction
     * committed), no automatic commits, at most {@code maxPollRecords} a poll.
     */
    static Properties readerProps(final Map<String, Object> clientConfig, final int maxPollRecords,
                                  final String offsetReset, final String clientId) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, offsetReset);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        return props;
    }

    /** The entry a chunk record holds: a chunk, or a barrier. */
    static Entry entry(final ConsumerRecord<byte[], byte[]> r) {
        return new Entry(r.partition(), r.offset(),
                ChunkRecords.isBarrier(r.value()) ? null : ChunkRecords.decode(r.key(), r.value()), r.timestamp());
    }

    @Override
    public void seek(final long offset) {
        consumer.seek(partition, offset);
        readPosition = offset;
    }

    @Override
    public long firstOffset() {
        return consumer.beginningOffsets(List.of(partition)).get(partition);
    }

    @Override
    public long lag() {
        final OptionalLong lag = consumer.currentLag(partition);
        return lag.isPresent() ? lag.getAsLong() : -1;
    }

    @Override
    public long readPosition() {
        return readPosition;
    }

    @Override
    public void truncateBefore(final long offset) {
        if (admin == null) {
            admin = Admin.create(clientConfig);
        }
        admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(offset))).all().whenComplete((ok, error) -> {
            if (error != null) {
                LOG.warn("Could not truncate {} before offset {} (the next snapshot retries): {}", partition, offset,
                        error.toString());
            } else {
                LOG.debug("Truncated {} before offset {}", partition, offset);
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
