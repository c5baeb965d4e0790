package io.spillway.app.follower;

import io.spillway.app.topology.Topics;
import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.app.trainer.DeltaTopicReader;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.SnapshotRestore;
import io.spillway.app.trainer.TrainerCheckpoint;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only replica of a model for serving: the newest complete snapshot from the snapshots topic, then
 * every delta published after it, applied as it arrives. It never trains and joins no consumer group.
 * A trainer that crashed re-publishes the deltas of the steps after its last snapshot when it replays them,
 * with the same version and contents; the follower applies each (version, tensor, chunk) once.
 *
 * <p>A model trained in split mode ({@link ScaleOut#SPLIT}) has no snapshots and its deltas come from several
 * instances, each committed once in a transaction: the follower starts from the initial weights and applies every
 * committed delta of the model, with no de-duplication.
 *
 * <p>Threading: confine to one thread; {@link #poll} applies what arrived.
 */
public final class ModelFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelFollower.class);
    /** Versions remembered for de-duplication: more than a trainer replays (it snapshots every N versions). */
    private static final int REPLAY_WINDOW = 100_000;

    private final Learner model;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SpecificAvroDeserializer<ModelDelta> deserializer;
    private final String topic;
    private final String modelId;
    private final long snapshotVersion;
    private final boolean deduplicate;
    private long version;
    private long deltasApplied;
    private long duplicatesSkipped;
    /** (version, tensor, chunk) of the deltas applied, for versions a replay could still repeat. */
    private final java.util.NavigableMap<Long, java.util.Set<String>> applied = new java.util.TreeMap<>();

    private ModelFollower(final Learner model, final KafkaConsumer<byte[], byte[]> consumer,
                          final SpecificAvroDeserializer<ModelDelta> deserializer, final String topic,
                          final String modelId, final long snapshotVersion, final boolean deduplicate) {
        this.deduplicate = deduplicate;
        this.model = model;
        this.consumer = consumer;
        this.deserializer = deserializer;
        this.topic = topic;
        this.modelId = modelId;
        this.snapshotVersion = snapshotVersion;
        this.version = snapshotVersion;
    }

    /**
     * Builds the replica: a model of {@code config}'s shape, restored from the newest complete snapshot of
     * {@code modelId} (or left at its initial weights when there is none), reading deltas from the start.
     */
    public static ModelFollower start(final Map<String, Object> clientConfig, final String registryUrl,
                                      final Map<String, Object> registryOverrides, final Topics topics,
                                      final String modelId, final LearnerConfig config) throws IOException {
        return start(clientConfig, registryUrl, registryOverrides, topics, modelId, config, ScaleOut.REPLICATE);
    }

    /** Builds the replica of a model trained the way {@code scaleOut} says. */
    public static ModelFollower start(final Map<String, Object> clientConfig, final String registryUrl,
                                      final Map<String, Object> registryOverrides, final Topics topics,
                                      final String modelId, final LearnerConfig config, final ScaleOut scaleOut)
            throws IOException {
        final Learner model = Learners.create(config);
        final boolean split = scaleOut == ScaleOut.SPLIT;
        long base = 0;
        Map<Integer, Long> positions = Map.of();
        final Optional<SnapshotReader.Snapshot> snapshot;
        try (SnapshotReader reader = SnapshotReader.open(clientConfig, registryUrl, registryOverrides,
                topics.snapshots(), modelId, SnapshotReader.Limits.forHeap())) {
            if (split) {
                final SnapshotRestore.Outcome<SplitCheckpoint> restored = SnapshotRestore.newest(reader, modelId,
                        SnapshotRestore.split(model, null), "follow it as a model trained replicated");
                snapshot = restored.snapshot();
                positions = restored.value() == null ? Map.of() : restored.value().positions();
            } else {
                final SnapshotRestore.Outcome<TrainerCheckpoint> restored = SnapshotRestore.newest(reader, modelId,
                        SnapshotRestore.replicated(model, null), "follow it as a model trained split");
                snapshot = restored.snapshot();
                base = snapshot.map(SnapshotReader.Snapshot::version).orElse(0L);
            }
        } catch (final IOException | RuntimeException e) {
            model.close();
            throw e;
        }
        final DeltaTopicReader.Opened deltas;
        try {
            deltas = DeltaTopicReader.open(clientConfig, null, topics.deltas(), positions);
        } catch (final RuntimeException e) {
            model.close();
            throw e;
        }
        final KafkaConsumer<byte[], byte[]> consumer = deltas.consumer();
        final SpecificAvroDeserializer<ModelDelta> deserializer = DeltaTopicReader.deserializer(registryUrl,
                registryOverrides);
        LOG.info("Following model {} from {}", modelId, snapshot.isPresent() ? "snapshot version " + base
                : "its initial weights (no snapshot yet)");
        return new ModelFollower(model, consumer, deserializer, topics.deltas(), modelId, base, !split);
    }

    /** Applies the deltas that arrived within {@code timeout}; returns the replica's model version. */
    public long poll(final Duration timeout) {
        for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            if (r.value() == null) {
                continue;
            }
            final ModelDelta d = deserializer.deserialize(topic, r.value());
            if (!modelId.equals(d.getModelId()) || (deduplicate && d.getVersion() <= snapshotVersion)) {
                continue; // another model, or already inside the snapshot
            }
            if (deduplicate && !applied.computeIfAbsent(d.getVersion(), v -> new java.util.HashSet<>())
                    .add(d.getTensor() + "/" + d.getChunkIndex())) {
                duplicatesSkipped++;
                continue; // a trainer's replay after a crash: the same update, already applied
            }
            while (applied.size() > REPLAY_WINDOW) {
                applied.pollFirstEntry();
            }
            model.applyDelta(PeerDeltas.toDelta(d));
            version = Math.max(version, d.getVersion());
            deltasApplied++;
        }
        return version;
    }

    /** Version of the newest delta applied (or of the snapshot). */
    public long version() {
        return version;
    }

    public long deltasApplied() {
        return deltasApplied;
    }

    /** Deltas seen again (a trainer replaying after a crash) and not applied twice. */
    public long duplicatesSkipped() {
        return duplicatesSkipped;
    }

    /** Copies of the replica's parameter tensors. */
    public Map<String, float[]> parameters() {
        return model.parameters();
    }

    @Override
    public void close() {
        consumer.close();
        deserializer.close();
        model.close();
    }
}
