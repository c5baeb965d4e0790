package io.spillway.app.scaleout;

import io.spillway.engine.Learner;
import io.spillway.engine.TensorDelta;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delta log read by a split-training instance: every committed delta of its model (read_committed: a
 * step whose transaction aborted was never trained as far as anyone knows) from the beginning of the log, each
 * applied once to the local learner, except those of this instance's own incarnation, which it already holds.
 * A model is the initial weights plus the whole log, so a new or restarted instance catches up by reading it.
 *
 * <p>Threading: the trainer thread only (the learner is not thread-safe).
 */
public final class PeerDeltas implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerDeltas.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SpecificAvroDeserializer<ModelDelta> deserializer;
    private final List<TopicPartition> partitions;
    private final String topic;
    private final String modelId;
    private final String ownIncarnation;
    private volatile long applied;
    private long ownSkipped;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security)
     * @param serdeConfig deserializer settings (registry URL and credentials)
     * @param topic the delta topic
     * @param modelId the model whose deltas apply
     * @param ownIncarnation the instance id this process publishes under (its deltas are skipped)
     * @throws IllegalStateException when the log no longer starts at offset 0: the initial weights plus the log
     *         would not be the model
     */
    public PeerDeltas(final Map<String, Object> clientConfig, final Map<String, Object> serdeConfig,
                      final String topic, final String modelId, final String ownIncarnation) {
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "spillway-peer-deltas-" + ownIncarnation);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.modelId = modelId;
        this.ownIncarnation = ownIncarnation;
        try {
            this.partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            final Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions);
            for (final Map.Entry<TopicPartition, Long> e : start.entrySet()) {
                if (e.getValue() > 0) {
                    throw new IllegalStateException("the delta log " + e.getKey() + " starts at offset " + e.getValue()
                            + ", not 0 (retention deleted its head): split training rebuilds the model from its"
                            + " initial weights and the whole delta log; raise " + topic + "'s retention.ms or use a"
                            + " new model id");
                }
            }
            consumer.seekToBeginning(partitions);
        } catch (final RuntimeException e) {
            consumer.close();
            throw e;
        }
        this.deserializer = new SpecificAvroDeserializer<>(ModelDelta.class);
        deserializer.configure(serdeConfig, false);
    }

    /** Applies what arrived within {@code timeout}; returns the number of deltas applied. */
    public int applyAvailable(final Learner learner, final Duration timeout) {
        int n = 0;
        for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            if (r.value() == null) {
                continue;
            }
            final ModelDelta d = deserializer.deserialize(topic, r.value());
            if (!modelId.equals(d.getModelId())) {
                continue;
            }
            if (ownIncarnation.equals(d.getInstanceId())) {
                ownSkipped++;
                continue;
            }
            learner.applyDelta(toDelta(d));
            applied++;
            n++;
        }
        return n;
    }

    /** Reads and applies the log up to its end as of now (a new instance's catch-up). */
    public long catchUp(final Learner learner) {
        final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        final long before = applied;
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            applyAvailable(learner, Duration.ofMillis(200));
        }
        LOG.info("Caught up with the delta log of model {}: {} deltas applied", modelId, applied - before);
        return applied - before;
    }

    /** Whether every committed delta published so far has been read. */
    public boolean atEnd() {
        final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
    }

    /** Peer deltas applied so far. */
    public long applied() {
        return applied;
    }

    /** Deltas of this instance's own incarnation seen in the log (already held, not applied again). */
    public long ownSkipped() {
        return ownSkipped;
    }

    /** The engine's form of a delta record. */
    public static TensorDelta toDelta(final ModelDelta d) {
        final List<Integer> idx = d.getUpdate().getIndices();
        final List<Float> val = d.getUpdate().getValues();
        final int[] indices = new int[idx.size()];
        final float[] values = new float[val.size()];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = idx.get(i);
            values[i] = val.get(i);
        }
        return new TensorDelta(d.getTensor(), d.getTensorSize(), indices, values);
    }

    @Override
    public void close() {
        consumer.close();
        deserializer.close();
    }
}
