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
 * step whose transaction aborted was never trained as far as anyone knows) from its newest snapshot's positions
 * (or the beginning), each applied once to the local learner, except those of this instance's own incarnation,
 * which it already holds. A model is its snapshot plus the log after it, so a new or restarted instance catches
 * up by reading it. Alongside, it keeps the log's model (the snapshot plus every delta read, own ones
 * included), which is what this instance's snapshots publish.
 *
 * <p>Threading: the trainer thread only (the learner is not thread-safe).
 */
public final class PeerDeltas implements DeltaLog {
    private static final Logger LOG = LoggerFactory.getLogger(PeerDeltas.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SpecificAvroDeserializer<ModelDelta> deserializer;
    private final List<TopicPartition> partitions;
    private final String topic;
    private final String modelId;
    private final String ownIncarnation;
    private volatile long applied;
    private final Map<String, float[]> logModel = new java.util.HashMap<>();
    private long ownSkipped;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security)
     * @param serdeConfig deserializer settings (registry URL and credentials)
     * @param topic the delta topic
     * @param modelId the model whose deltas apply
     * @param ownIncarnation the instance id this process publishes under (its deltas are not applied again)
     * @param start where to read each partition from (a snapshot's positions), or an empty map for the beginning
     * @param logWeights the model the log starts from (a snapshot's weights, or the initial ones): kept as the
     *        log's model, every delta read added to it, for this instance's snapshots
     * @throws IllegalStateException when the log no longer holds what follows {@code start}
     */
    public PeerDeltas(final Map<String, Object> clientConfig, final Map<String, Object> serdeConfig,
                      final String topic, final String modelId, final String ownIncarnation,
                      final Map<Integer, Long> start, final Map<String, float[]> logWeights) {
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
        for (final Map.Entry<String, float[]> e : logWeights.entrySet()) {
            this.logModel.put(e.getKey(), e.getValue().clone());
        }
        try {
            this.partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            final Map<TopicPartition, Long> first = consumer.beginningOffsets(partitions);
            for (final TopicPartition p : partitions) {
                final long from = start.getOrDefault(p.partition(), 0L);
                if (first.get(p) > from) {
                    throw new IllegalStateException("the delta log " + p + " starts at offset " + first.get(p)
                            + ", not " + from + " (retention deleted deltas the model needs): split training"
                            + " rebuilds the model from its newest snapshot (or its initial weights) and the delta"
                            + " log after it; publish snapshots more often than the log's retention.ms, or use a new"
                            + " model id");
                }
                consumer.seek(p, from);
            }
        } catch (final RuntimeException e) {
            consumer.close();
            throw e;
        }
        this.deserializer = new SpecificAvroDeserializer<>(ModelDelta.class);
        deserializer.configure(serdeConfig, false);
    }

    /** Applies what arrived within {@code timeout}; returns the number of deltas applied. */
    @Override
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
            final TensorDelta delta = toDelta(d);
            addTo(logModel, delta);
            if (ownIncarnation.equals(d.getInstanceId())) {
                ownSkipped++;
                continue;
            }
            learner.applyDelta(delta);
            applied++;
            n++;
        }
        return n;
    }

    /** Reads and applies the log up to its end as of now (a new instance's catch-up). */
    @Override
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
    @Override
    public boolean atEnd() {
        final Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
    }

    /** Offsets of the next records to read, per partition of the delta topic: what {@link #logWeights()} includes. */
    @Override
    public Map<Integer, Long> positions() {
        final Map<Integer, Long> out = new java.util.TreeMap<>();
        for (final TopicPartition p : partitions) {
            out.put(p.partition(), consumer.position(p));
        }
        return out;
    }

    /** The initial (or snapshot) weights plus every delta of the model read so far, own ones included. */
    @Override
    public Map<String, float[]> logWeights() {
        final Map<String, float[]> out = new java.util.HashMap<>();
        logModel.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    private static void addTo(final Map<String, float[]> model, final TensorDelta d) {
        final float[] w = model.get(d.tensor());
        if (w == null || w.length != d.size()) {
            throw new IllegalArgumentException("delta for tensor " + d.tensor() + " of size " + d.size()
                    + " does not fit the model");
        }
        for (int k = 0; k < d.indices().length; k++) {
            w[d.indices()[k]] += d.values()[k];
        }
    }

    /** Peer deltas applied so far. */
    @Override
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
