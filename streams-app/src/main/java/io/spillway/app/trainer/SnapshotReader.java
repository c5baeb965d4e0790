package io.spillway.app.trainer;

import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a model's snapshots from the snapshots topic, newest version first, trusting nothing on it. Opening reads
 * the topic once and keeps only each chunk's metadata and place ({@link SnapshotIndex}); {@link #next} then
 * assembles one complete version at a time (all chunks present, their claims consistent, the bytes matching the
 * recorded SHA-256), fetching its chunks again by offset. So at most one version's payload is in memory while
 * reading, whatever the topic holds.
 *
 * <p>A record that cannot be decoded, or whose claims do not hold ({@code totalBytes} negative or beyond an array,
 * a chunk index outside its count, a key that disagrees with its value), is
 * skipped and reported: a log line with topic, partition, offset and reason, and a {@link SnapshotRefusal} in
 * {@link #refusals()}. So is a version that is incomplete or fails its checksum, and one the caller refuses
 * ({@link #refuse}) because its payload does not decode; {@link #next} then offers the next older version.
 * Records of other models are skipped unread when their key says so. Only an unreachable registry (which would
 * make every record look undecodable) fails the read.
 *
 * <p>Threading: confine to one thread; close it.
 */
public final class SnapshotReader implements SnapshotSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReader.class);
    /** Reading gives up when the topic yields nothing new for this long. */
    private static final Duration STALL = Duration.ofSeconds(60);

    /**
     * Bounds on what a snapshot may claim.
     *
     * @param maxSnapshotBytes largest snapshot assembled (at most {@link #ARRAY_LIMIT}); a complete larger one is
     *     refused as a mismatch, so that the model is not started afresh over it
     * @param maxIndexedChunks most chunks one version may claim, and most chunk records indexed at once (the oldest
     *     versions are forgotten beyond it)
     */
    public record Limits(long maxSnapshotBytes, int maxIndexedChunks) {
        /** Largest array the JVM allocates. */
        public static final long ARRAY_LIMIT = Integer.MAX_VALUE - 8;

        public Limits {
            if (maxSnapshotBytes < 0 || maxSnapshotBytes > ARRAY_LIMIT || maxIndexedChunks < 1) {
                throw new IllegalArgumentException("bad snapshot limits: " + maxSnapshotBytes + " bytes, "
                        + maxIndexedChunks + " chunks");
            }
        }

        /**
         * A quarter of the heap (restoring holds the payload, its decoded copy and the learner's own state) up to
         * the array limit, and 2^18 chunks.
         */
        public static Limits forHeap() {
            return new Limits(Math.min(ARRAY_LIMIT, Runtime.getRuntime().maxMemory() / 4), 1 << 18);
        }
    }

    /**
     * A complete snapshot.
     *
     * @param version model version
     * @param state the reassembled payload
     * @param chunkCount records it was published in
     * @param format the payload format
     */
    public record Snapshot(long version, byte[] state, int chunkCount, String format) {
    }

    private final String topic;
    private final String modelId;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SpecificAvroDeserializer<ModelSnapshotChunk> deserializer;
    private final SnapshotIndex index;
    private final List<SnapshotRefusal> refusals = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, Long> end;
    private SnapshotIndex.Assembled last;

    private SnapshotReader(final Map<String, Object> clientConfig, final String registryUrl,
                           final Map<String, Object> registryOverrides, final String topic, final String modelId,
                           final Limits limits) {
        this.topic = topic;
        this.modelId = modelId;
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.deserializer = new SpecificAvroDeserializer<>(ModelSnapshotChunk.class);
        final Map<String, Object> serde = new HashMap<>(registryOverrides);
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
        deserializer.configure(serde, false);
        this.index = new SnapshotIndex(modelId, limits, this::report);
        this.end = new HashMap<>();
    }

    /**
     * Reads the snapshots topic's metadata for {@code modelId}; then call {@link #next}.
     *
     * @throws IOException when the topic cannot be read (no progress for a minute) or the schema registry is
     *     unavailable
     */
    public static SnapshotReader open(final Map<String, Object> clientConfig, final String registryUrl,
                                      final Map<String, Object> registryOverrides, final String topic,
                                      final String modelId, final Limits limits) throws IOException {
        final SnapshotReader reader = new SnapshotReader(clientConfig, registryUrl, registryOverrides, topic, modelId,
                limits);
        try {
            reader.index();
            return reader;
        } catch (final IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /** The newest complete snapshot of a model, if the topic has one (tests and tools; no payload check). */
    public static Optional<Snapshot> newest(final Map<String, Object> clientConfig, final String registryUrl,
                                            final Map<String, Object> registryOverrides, final String topic,
                                            final String modelId) {
        try (SnapshotReader reader = open(clientConfig, registryUrl, registryOverrides, topic, modelId,
                Limits.forHeap())) {
            return reader.next();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void index() throws IOException {
        final List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        end.putAll(consumer.endOffsets(partitions));
        long stalledSince = System.nanoTime();
        long records = 0;
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (System.nanoTime() - stalledSince > STALL.toNanos()) {
                throw new IOException("no progress reading snapshots from " + topic + " for " + STALL.toSeconds()
                        + " s");
            }
            for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                stalledSince = System.nanoTime();
                records++;
                offer(r);
            }
        }
        LOG.debug("Indexed {} records of {} for model {}", records, topic, modelId);
    }

    private void offer(final ConsumerRecord<byte[], byte[]> r) throws IOException {
        final SnapshotIndex.Location at = new SnapshotIndex.Location(r.topic(), r.partition(), r.offset());
        if (!index.mayConcern(r.key())) {
            return; // another model's, by its key: not decoded at all
        }
        if (r.value() == null) {
            index.tombstone(at, r.key());
            return;
        }
        final ModelSnapshotChunk chunk;
        try {
            chunk = decode(r.value());
        } catch (final RuntimeException e) {
            index.undecodable(at, r.key(), e.getMessage() == null ? e.toString() : e.getMessage());
            return;
        }
        index.add(at, r.key(), chunk);
    }

    private ModelSnapshotChunk decode(final byte[] value) throws IOException {
        try {
            return deserializer.deserialize(topic, value);
        } catch (final SerdeException e) {
            if (e.reason() == SerdeException.Reason.REGISTRY_UNAVAILABLE) {
                throw new IOException("cannot read snapshots from " + topic + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /**
     * The newest version not offered yet that is complete and matches its checksum; versions newer than it that
     * are not were refused (see {@link #refusals()}). Empty when none is left.
     */
    @Override
    public Optional<Snapshot> next() throws IOException {
        final Optional<SnapshotIndex.Assembled> a = index.next(this::fetch);
        last = a.orElse(null);
        return a.map(SnapshotIndex.Assembled::snapshot);
    }

    /** The caller could not use {@code snapshot} (the last {@link #next} gave): reported like any refusal. */
    @Override
    public void refuse(final Snapshot snapshot, final String reason, final boolean mismatch) {
        if (last == null || last.snapshot() != snapshot) {
            throw new IllegalArgumentException("only the snapshot the last next() returned can be refused");
        }
        report(new SnapshotRefusal(modelId, snapshot.version(), topic, last.first().partition(),
                last.first().offset(), reason, mismatch));
    }

    /** Everything refused so far, in order. */
    @Override
    public List<SnapshotRefusal> refusals() {
        return Collections.unmodifiableList(refusals);
    }

    /**
     * Complete versions older than the last one {@link #next} gave, with their chunk counts, oldest first: what
     * a trainer that restored that one may retire once it has published newer ones.
     */
    @Override
    public Map<Long, Integer> olderVersions() {
        return new TreeMap<>(index.remainingComplete());
    }

    private void report(final SnapshotRefusal refusal) {
        LOG.warn("Refused {}", refusal);
        refusals.add(refusal);
    }

    /** Fetches one version's chunks: per partition, from its first wanted offset to its last. */
    private void fetch(final List<SnapshotIndex.Location> locations, final SnapshotIndex.ChunkSink sink)
            throws IOException {
        final Map<Integer, List<SnapshotIndex.Location>> byPartition = new TreeMap<>();
        for (final SnapshotIndex.Location l : locations) {
            byPartition.computeIfAbsent(l.partition(), p -> new ArrayList<>()).add(l);
        }
        for (final Map.Entry<Integer, List<SnapshotIndex.Location>> e : byPartition.entrySet()) {
            final TopicPartition tp = new TopicPartition(topic, e.getKey());
            final List<SnapshotIndex.Location> wanted = new ArrayList<>(e.getValue());
            wanted.sort(Comparator.comparingLong(SnapshotIndex.Location::offset));
            final long lastWanted = wanted.getLast().offset();
            final long stop = Math.min(lastWanted + 1, end.getOrDefault(tp, lastWanted + 1));
            consumer.assign(List.of(tp));
            consumer.seek(tp, wanted.getFirst().offset());
            final Map<Long, SnapshotIndex.Location> at = new HashMap<>();
            wanted.forEach(l -> at.put(l.offset(), l));
            long stalledSince = System.nanoTime();
            while (consumer.position(tp) < stop && !at.isEmpty()) {
                if (System.nanoTime() - stalledSince > STALL.toNanos()) {
                    throw new IOException("no progress re-reading snapshot chunks from " + tp + " for "
                            + STALL.toSeconds() + " s");
                }
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    stalledSince = System.nanoTime();
                    final SnapshotIndex.Location l = at.remove(r.offset());
                    if (l == null || r.value() == null) {
                        continue;
                    }
                    final ModelSnapshotChunk chunk;
                    try {
                        chunk = decode(r.value());
                    } catch (final RuntimeException ex) {
                        continue; // it decoded when indexed; treated as gone
                    }
                    sink.accept(l, chunk);
                }
            }
        }
    }

    /** Hex SHA-256 of {@code data}, as snapshot records carry it. */
    static String sha256(final byte[] data) {
        return SnapshotIndex.sha256(data);
    }

    @Override
    public void close() {
        consumer.close();
        deserializer.close();
    }
}
