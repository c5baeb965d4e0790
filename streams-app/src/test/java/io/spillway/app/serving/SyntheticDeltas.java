package io.spillway.app.serving;

import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Inference;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.model.ParameterTensor;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes model versions the way a replicated trainer does (every changed tensor of a version as ModelDelta records
 * of at most {@code maxEntries} entries, keyed by model id, on the deltas topic) and keeps the reference weights of
 * every version, applied by a learner the way a follower applies them. For the serving tests and benchmark.
 */
public final class SyntheticDeltas implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final SpecificAvroSerializer<ModelDelta> serializer = new SpecificAvroSerializer<>(ModelDelta.class);
    private final Topics topics;
    private final String modelId;
    private final Learner reference;
    private final Inference inference;
    private final int maxEntries;
    private final SplittableRandom random;
    private long version;

    public SyntheticDeltas(final String bootstrap, final String registry, final Topics topics, final String modelId,
                           final LearnerConfig config, final int maxEntries, final long seed) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("linger.ms", 5);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
        this.topics = topics;
        this.modelId = modelId;
        this.reference = Learners.create(config);
        this.inference = Inference.create(config);
        this.maxEntries = maxEntries;
        this.random = new SplittableRandom(seed);
    }

    /** The reference weights now (initial weights before any version). */
    public float[] weights() {
        return inference.flatten(reference.parameters());
    }

    public long version() {
        return version;
    }

    public Inference inference() {
        return inference;
    }

    /**
     * Publishes the next version: a change of about {@code fraction} of every tensor's entries, and flushes.
     *
     * @return the reference weights of that version
     */
    public float[] publishVersion(final double fraction, final float scale) {
        final long v = ++version;
        final long now = System.currentTimeMillis();
        for (final ParameterTensor t : inference.tensors()) {
            final List<Integer> idx = new ArrayList<>();
            final List<Float> val = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) {
                if (random.nextDouble() < fraction) {
                    idx.add(i);
                    val.add((float) (random.nextGaussian() * scale));
                }
            }
            if (idx.isEmpty()) {
                continue;
            }
            final int chunks = (idx.size() + maxEntries - 1) / maxEntries;
            for (int c = 0; c < chunks; c++) {
                final int from = c * maxEntries;
                final int to = Math.min(idx.size(), from + maxEntries);
                final ModelDelta d = ModelDelta.newBuilder().setModelId(modelId).setInstanceId("synthetic")
                        .setVersion(v).setBaseVersion(v - 1).setTensor(t.name()).setTensorSize(t.size())
                        .setChunkIndex(c).setChunkCount(chunks)
                        .setUpdate(SparseVector.newBuilder().setIndices(new ArrayList<>(idx.subList(from, to)))
                                .setValues(new ArrayList<>(val.subList(from, to))).build())
                        .setCreatedAtMs(now).build();
                reference.applyDelta(PeerDeltas.toDelta(d));
                producer.send(new ProducerRecord<>(topics.deltas(), modelId, serializer.serialize(topics.deltas(), d)));
            }
        }
        producer.flush();
        return weights();
    }

    /** Publishes a record on the deltas topic that is not a delta at all. */
    public void publishGarbage() {
        producer.send(new ProducerRecord<>(topics.deltas(), modelId, new byte[] {0, 0, 0, 0, 99, 1, 2, 3}));
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
        serializer.close();
        reference.close();
        inference.close();
    }
}
