package io.spillway.app.serving.internals;

import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.DeltaTopicReader;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.SnapshotRefusal;
import io.spillway.app.trainer.SnapshotRestore;
import io.spillway.app.trainer.TrainerCheckpoint;
import io.spillway.engine.Inference;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.PredictionMixture;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a model the way {@code follow} does (the newest snapshot it can restore, then the deltas after it) and
 * hands out <em>complete</em> versions only, as flat weight copies nothing writes to again.
 *
 * <p>A version is complete when every delta record of it has been applied. A trainer publishes a step's deltas as
 * several records (one per changed tensor, split into chunks), and the records do not say how many tensors changed,
 * so completeness is judged from the log: a record of a later version from the same trainer closes the one before
 * (replicated training, whose deltas come in version order); otherwise the reader has caught up with the end of the
 * deltas topic, every tensor seen has all its chunks, and nothing more arrived for {@code settle}. Split training
 * commits each step's records in one transaction and this reader reads committed records only, so there the catch-up
 * test alone is exact.
 *
 * <p>A delta it cannot read (undecodable, another shape, a non-finite value) is refused with a reason: from then on
 * no further version is handed out, since every later one would lack that update; the caller keeps serving the last
 * complete version and may start a fresh tracker from a newer snapshot.
 *
 * <p>Threading: confine to one thread.
 */
public final class ModelTracker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelTracker.class);
    /** Versions remembered for de-duplicating a trainer's replay, as {@code follow} does. */
    private static final int REPLAY_WINDOW = 100_000;

    /** Where a version's weights came from. */
    public enum Source { INITIAL, SNAPSHOT, DELTAS }

    /**
     * A complete version.
     *
     * @param weights flat weight vector, owned by the receiver from now on
     * @param publishedAtMs when the trainer published it (its newest delta's creation time), -1 when not known
     *     (initial weights, a snapshot)
     */
    public record Assembled(long version, float[] weights, long publishedAtMs, Source source) {
    }

    /** Something read and not used, and why. */
    public record Refusal(String what, String reason, long atMs) {
    }

    private final Learner model;
    private final Inference inference;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions;
    private final SpecificAvroDeserializer<ModelDelta> deserializer;
    private final String topic;
    private final String modelId;
    private final long snapshotVersion;
    private final boolean replicated;
    private final long settleNanos;
    private final Assembled initial;
    private final PredictionMixture mixture;
    private final List<Refusal> refusals = new ArrayList<>();
    private final NavigableMap<Long, Set<String>> applied = new TreeMap<>();
    /** Chunks seen per tensor of the deltas applied since the last complete version, and each tensor's count. */
    private final Map<String, Set<Integer>> chunksSeen = new HashMap<>();
    private final Map<String, Integer> chunkCounts = new HashMap<>();
    private long published;
    private long building;
    private boolean dirty;
    private long newestCreatedMs = -1;
    private long lastRecordNanos;
    private long deltasApplied;
    private String degraded;

    private ModelTracker(final Learner model, final Inference inference, final KafkaConsumer<byte[], byte[]> consumer,
                         final List<TopicPartition> partitions, final SpecificAvroDeserializer<ModelDelta> deserializer,
                         final String topic, final String modelId, final long snapshotVersion, final boolean replicated,
                         final Duration settle, final Source source, final List<Refusal> snapshotRefusals) {
        this.model = model;
        this.inference = inference;
        this.consumer = consumer;
        this.partitions = partitions;
        this.deserializer = deserializer;
        this.topic = topic;
        this.modelId = modelId;
        this.snapshotVersion = snapshotVersion;
        this.replicated = replicated;
        this.settleNanos = settle.toNanos();
        this.published = snapshotVersion;
        this.building = snapshotVersion;
        this.refusals.addAll(snapshotRefusals);
        this.initial = new Assembled(snapshotVersion, inference.flatten(model.parameters()), -1, source);
        this.mixture = PredictionMixture.of(model).orElse(null); // before any delta: deltas carry weights only
    }

    /**
     * Restores the newest snapshot of {@code modelId} that can be read (refusing the others with a reason, see
     * {@link SnapshotRestore}) or starts from the initial weights of {@code config}, and subscribes to the deltas.
     *
     * @throws IOException when only snapshots of another configuration exist
     */
    public static ModelTracker start(final Map<String, Object> clientConfig, final String registryUrl,
                                     final Map<String, Object> registryOverrides, final Topics topics,
                                     final String modelId, final LearnerConfig config, final ScaleOut scaleOut,
                                     final Inference inference, final Duration settle) throws IOException {
        final Learner model = Learners.create(config);
        final boolean split = scaleOut == ScaleOut.SPLIT;
        long base = 0;
        Map<Integer, Long> positions = Map.of();
        final Optional<SnapshotReader.Snapshot> snapshot;
        final List<Refusal> refused = new ArrayList<>();
        KafkaConsumer<byte[], byte[]> consumer = null;
        try {
            try (SnapshotReader reader = SnapshotReader.open(clientConfig, registryUrl, registryOverrides,
                    topics.snapshots(), modelId, SnapshotReader.Limits.forHeap())) {
                final List<SnapshotRefusal> refusals;
                if (split) {
                    final SnapshotRestore.Outcome<SplitCheckpoint> restored = SnapshotRestore.newest(reader, modelId,
                            SnapshotRestore.split(model, null), "serve it as a model trained replicated");
                    snapshot = restored.snapshot();
                    positions = restored.value() == null ? Map.of() : restored.value().positions();
                    refusals = restored.refusals();
                } else {
                    final SnapshotRestore.Outcome<TrainerCheckpoint> restored = SnapshotRestore.newest(reader, modelId,
                            SnapshotRestore.replicated(model, null), "serve it as a model trained split");
                    snapshot = restored.snapshot();
                    refusals = restored.refusals();
                }
                base = snapshot.map(SnapshotReader.Snapshot::version).orElse(0L);
                final long now = System.currentTimeMillis();
                refusals.forEach(r -> refused.add(new Refusal(r.ofVersion() ? "snapshot version " + r.version()
                        : "snapshot record " + r.where(), r.reason(), now)));
            }
            final DeltaTopicReader.Opened deltas = DeltaTopicReader.open(clientConfig, "spillway-serve-deltas",
                    topics.deltas(), positions);
            consumer = deltas.consumer();
            final List<TopicPartition> parts = deltas.partitions();
            final SpecificAvroDeserializer<ModelDelta> deserializer = DeltaTopicReader.deserializer(registryUrl,
                    registryOverrides);
            LOG.info("Serving model {} from {}", modelId, snapshot.isPresent() ? "snapshot version " + base
                    : "its initial weights (no snapshot restored)");
            return new ModelTracker(model, inference, consumer, parts, deserializer, topics.deltas(), modelId, base,
                    !split, settle, snapshot.isPresent() ? Source.SNAPSHOT : Source.INITIAL, refused);
        } catch (final IOException | RuntimeException e) {
            if (consumer != null) {
                consumer.close();
            }
            model.close();
            throw e;
        }
    }

    /**
     * A copy of the prediction mixture restored with the snapshot (the trainer's counts and mixing weights as of
     * {@link #initial}), fresh when none was restored; empty when the model publishes the network's predictions
     * alone.
     */
    public Optional<PredictionMixture> mixture() {
        return Optional.ofNullable(mixture);
    }

    /** The version restored (snapshot or initial weights). */
    public Assembled initial() {
        return initial;
    }

    /**
     * Applies what arrived within {@code timeout} and returns the versions completed, oldest first (empty once
     * {@link #degraded()}).
     */
    public List<Assembled> poll(final Duration timeout) {
        final List<Assembled> out = new ArrayList<>();
        if (degraded != null) {
            consumer.poll(timeout); // keeps the consumer's session; nothing is applied any more
            return out;
        }
        for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            if (r.value() == null) {
                continue;
            }
            lastRecordNanos = System.nanoTime();
            final ModelDelta d;
            try {
                d = deserializer.deserialize(topic, r.value());
            } catch (final io.spillway.schemas.serde.SerdeException e) {
                if (e.reason() == io.spillway.schemas.serde.SerdeException.Reason.REGISTRY_UNAVAILABLE) {
                    // not the record's fault: read it again on the next poll
                    consumer.seek(new TopicPartition(r.topic(), r.partition()), r.offset());
                    LOG.warn("Schema registry unavailable while reading deltas of model {}: {}", modelId,
                            e.getMessage());
                    return out;
                }
                degrade("delta record " + r.topic() + "-" + r.partition() + "@" + r.offset(),
                        "cannot be decoded: " + e.getMessage());
                return out;
            } catch (final RuntimeException e) {
                degrade("delta record " + r.topic() + "-" + r.partition() + "@" + r.offset(),
                        "cannot be decoded: " + e.getMessage());
                return out;
            }
            if (!modelId.equals(d.getModelId()) || (replicated && d.getVersion() <= snapshotVersion)) {
                continue; // another model, or already inside the snapshot
            }
            if (replicated && !applied.computeIfAbsent(d.getVersion(), v -> new HashSet<>())
                    .add(d.getTensor() + "/" + d.getChunkIndex())) {
                continue; // a trainer's replay after a crash: the same update, already applied
            }
            while (applied.size() > REPLAY_WINDOW) {
                applied.pollFirstEntry();
            }
            if (replicated && dirty && d.getVersion() > building) {
                out.add(complete()); // a later version closes the one before
            }
            try {
                model.applyDelta(PeerDeltas.toDelta(d));
            } catch (final RuntimeException e) {
                degrade("delta of version " + d.getVersion() + " tensor " + d.getTensor() + " at " + r.topic() + "-"
                        + r.partition() + "@" + r.offset(), e.getMessage());
                return out;
            }
            deltasApplied++;
            dirty = true;
            building = Math.max(building, d.getVersion());
            newestCreatedMs = Math.max(newestCreatedMs, d.getCreatedAtMs());
            chunksSeen.computeIfAbsent(d.getTensor(), t -> new HashSet<>()).add(d.getChunkIndex());
            chunkCounts.put(d.getTensor(), d.getChunkCount());
        }
        if (dirty && allChunks() && System.nanoTime() - lastRecordNanos >= settleNanos && caughtUp()) {
            out.add(complete());
        }
        return out;
    }

    private boolean allChunks() {
        for (final Map.Entry<String, Integer> e : chunkCounts.entrySet()) {
            if (chunksSeen.getOrDefault(e.getKey(), Set.of()).size() < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private boolean caughtUp() {
        for (final TopicPartition p : partitions) {
            final OptionalLong lag = consumer.currentLag(p);
            if (lag.isPresent() ? lag.getAsLong() > 0
                    : consumer.position(p) < consumer.endOffsets(List.of(p)).getOrDefault(p, 0L)) {
                return false;
            }
        }
        return true;
    }

    private Assembled complete() {
        final Assembled a = new Assembled(building, inference.flatten(model.parameters()), newestCreatedMs,
                Source.DELTAS);
        published = building;
        dirty = false;
        newestCreatedMs = -1;
        chunksSeen.clear();
        chunkCounts.clear();
        return a;
    }

    private void degrade(final String what, final String reason) {
        degraded = what + ": " + reason;
        refusals.add(new Refusal(what, reason, System.currentTimeMillis()));
        LOG.error("Refused {} of model {}: {}; version {} stays the newest served", what, modelId, reason, published);
    }

    /** Why no further version is handed out, or null while following. */
    public String degraded() {
        return degraded;
    }

    /** What was refused, oldest first (snapshots while restoring, then deltas). */
    public List<Refusal> refusals() {
        return List.copyOf(refusals);
    }

    /** Newest complete version handed out (or restored). */
    public long version() {
        return published;
    }

    public long deltasApplied() {
        return deltasApplied;
    }

    @Override
    public void close() {
        consumer.close();
        deserializer.close();
        model.close();
    }
}
