package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.TrainingStep;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A seeded mutation campaign against restoring: snapshots of real learner states from short training runs (every
 * optimizer family, LIF with and without adaptation) are damaged by bit flips, truncations, length-field changes,
 * NaN and infinity injections, garbage runs and splices of the payload (with the checksum recomputed, as a buggy or
 * hostile writer would), and by changes to the chunk records (claims, lost and duplicated chunks, undecodable
 * chunks). Each must either restore to a state that trains on with finite weights, or be refused with a reason;
 * nothing else may escape (no OutOfMemoryError, NegativeArraySizeException, IndexOutOfBoundsException, NPE), and
 * none may hang. A refused state leaves the learner as it was. The figures go to
 * {@code target/hostile-input/snapshots.json}.
 */
@Tag("hostile-input")
class SnapshotMutationCampaignTest {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotMutationCampaignTest.class);
    private static final String CHUNKS = "spillway-training-chunks";
    private static final long SEED = Long.getLong("hostile.seed", 0x5EED_2024L);
    private static final int PAYLOAD_MUTATIONS_PER_BASE = 64;
    private static final int RECORD_MUTATIONS_PER_BASE = 12;

    /** A trained state to mutate, and the configuration of the learner that restores it. */
    private record Base(String name, LearnerConfig config, byte[] payload, long version, int stateAt) {
    }

    private static LearnerConfig.Builder small(final String optimizer) {
        return LearnerConfig.builder().vocabularySize(8).featureDimension(4).hiddenSize(12).optimizer(optimizer)
                .learningRate(0.01f).backend("cpu").seed(11).maxCarriedKeys(64);
    }

    private static List<Base> bases() throws IOException {
        final Map<String, LearnerConfig> configs = new LinkedHashMap<>();
        configs.put("adam", small("adam").build());
        configs.put("mfac-sparse", small("mfac-sparse:m=4").build());
        configs.put("mfac-dense", small("mfac:m=4").layers(2).build());
        configs.put("ggt-sparse", small("ggt-sparse:m=3,density=0.05").build());
        configs.put("mfac-lowrank", small("mfac-lowrank:m=3,rank=2").build());
        configs.put("sgd-adaptive", small("sgd").adaptation(0.2f).adaptationDecay(0.9f).build());
        final List<Base> out = new ArrayList<>();
        for (final Map.Entry<String, LearnerConfig> e : configs.entrySet()) {
            try (Learner l = Learners.create(e.getValue())) {
                for (int step = 0; step < 7; step++) {
                    l.train(SnapshotRestoreTest.batch(step));
                }
                final byte[] state = SnapshotRestoreTest.state(l);
                final byte[] payload = new TrainerCheckpoint(CHUNKS, 7, 7 * 18,
                        io.spillway.engine.ConfigProvenance.of(e.getValue()), state).encode();
                out.add(new Base(e.getKey(), e.getValue(), payload, l.version(), payload.length - state.length));
            }
        }
        return out;
    }

    /** What one mutated snapshot came to. */
    private enum Result { RESTORED, REFUSED }

    private final Map<String, int[]> byKind = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();

    @Test
    void everyMutatedSnapshotIsRestoredSoundOrRefusedWithAReason() throws Exception {
        final SplittableRandom random = new SplittableRandom(SEED);
        int tried = 0;
        int refused = 0;
        int restored = 0;
        for (final Base base : bases()) {
            final List<Mutation> mutations = new ArrayList<>();
            for (int i = 0; i < PAYLOAD_MUTATIONS_PER_BASE; i++) {
                mutations.add(payloadMutation(base, random));
            }
            for (int i = 0; i < RECORD_MUTATIONS_PER_BASE; i++) {
                mutations.add(recordMutation(base, random));
            }
            for (final Mutation m : mutations) {
                tried++;
                final Result r;
                try {
                    r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> attempt(base, m),
                            () -> base.name() + " " + m.kind() + ": hung");
                } catch (final AssertionError e) {
                    failures.add(e.getMessage());
                    continue;
                }
                if (r == null) {
                    continue; // a failure, recorded
                }
                byKind.computeIfAbsent(m.kind(), k -> new int[2])[r.ordinal()]++;
                if (r == Result.RESTORED) {
                    restored++;
                } else {
                    refused++;
                }
            }
        }
        writeFigures(tried, refused, restored);
        LOG.info("Snapshot mutation campaign: {} tried, {} refused with a reason, {} restored and trained on; by kind"
                + " (restored, refused): {}", tried, refused, restored, kinds());
        assertThat(failures).as("mutated snapshots that were neither restored soundly nor refused with a reason")
                .isEmpty();
        assertThat(tried).isGreaterThanOrEqualTo(300);
        assertThat(refused + restored).isEqualTo(tried);
        assertThat(refused).as("most damage is detected").isGreaterThan(tried / 2);
    }

    /**
     * Reads the mutated topic and decodes what it offers, newest first, as restoring does, but catching only what a
     * refusal may be (IOException): anything else is a failure. Returns null after recording a failure.
     */
    private Result attempt(final Base base, final Mutation m) {
        final String where = base.name() + " " + m.kind() + " (" + m.detail() + ")";
        try (Learner learner = Learners.create(base.config())) {
            final byte[] before = SnapshotRestoreTest.state(learner);
            final OfflineSnapshots topic = m.topic();
            final SnapshotRestore.Decoder<TrainerCheckpoint> decoder = SnapshotRestore.replicated(learner, CHUNKS);
            for (Optional<SnapshotReader.Snapshot> s = topic.next(); s.isPresent(); s = topic.next()) {
                try {
                    decoder.restore(s.get());
                } catch (final IOException e) {
                    if (e.getMessage() == null || e.getMessage().isBlank()) {
                        failures.add(where + ": refused without a reason: " + e);
                        return null;
                    }
                    if (!Arrays.equals(SnapshotRestoreTest.state(learner), before)) {
                        failures.add(where + ": refused (" + e.getMessage() + ") but the learner was changed");
                        return null;
                    }
                    topic.refuse(s.get(), e.getMessage(), false);
                    continue;
                }
                for (int step = 0; step < 2; step++) {
                    final TrainingStep t = learner.train(SnapshotRestoreTest.batch(step + 7));
                    assertThat(t).isNotNull();
                }
                for (final float[] w : learner.parameters().values()) {
                    for (final float v : w) {
                        if (!Float.isFinite(v)) {
                            failures.add(where + ": restored, but training on left a weight " + v);
                            return null;
                        }
                    }
                }
                return Result.RESTORED;
            }
            if (topic.refusals().isEmpty() || topic.refusals().stream().anyMatch(r -> r.reason().isBlank())) {
                failures.add(where + ": nothing restored, but no reason given: " + topic.refusals());
                return null;
            }
            return Result.REFUSED;
        } catch (final Throwable t) {
            failures.add(where + ": " + t);
            LOG.warn("{} failed", where, t);
            return null;
        }
    }

    /** A mutated topic, built lazily so each attempt reads a fresh one. */
    private record Mutation(String kind, String detail, java.util.function.Supplier<OfflineSnapshots> topics) {
        OfflineSnapshots topic() {
            return topics.get();
        }
    }

    private static OfflineSnapshots topicOf(final long version, final byte[] payload) {
        return new OfflineSnapshots("m", SnapshotReader.Limits.forHeap()).publish(version, TrainerCheckpoint.FORMAT,
                payload, Math.max(64, payload.length / 3));
    }

    /** The payload damaged, published with a checksum that matches the damage. */
    private static Mutation payloadMutation(final Base base, final SplittableRandom random) {
        final byte[] p = base.payload().clone();
        final int kind = random.nextInt(7);
        final String name;
        final String detail;
        byte[] out = p;
        switch (kind) {
            case 0 -> {
                final int flips = 1 + random.nextInt(4);
                final StringBuilder d = new StringBuilder();
                for (int i = 0; i < flips; i++) {
                    final int bit = random.nextInt(p.length * 8);
                    p[bit / 8] ^= (byte) (1 << (bit % 8));
                    d.append(bit).append(' ');
                }
                name = "bit-flip";
                detail = "bits " + d.toString().trim();
            }
            case 1 -> {
                final int cut = random.nextInt(p.length);
                out = Arrays.copyOf(p, cut);
                name = "truncation";
                detail = "cut to " + cut + " of " + p.length;
            }
            case 2 -> {
                // an int that looks like a count, length or index (small and positive) set to a hostile value
                final List<Integer> candidates = new ArrayList<>();
                final ByteBuffer b = ByteBuffer.wrap(p);
                for (int i = 0; i + 4 <= p.length; i++) {
                    final int v = b.getInt(i);
                    if (v > 0 && v <= 1 << 20) {
                        candidates.add(i);
                    }
                }
                final int at = candidates.get(random.nextInt(candidates.size()));
                final int[] hostile = {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, 0, b.getInt(at) + 1, b.getInt(at) - 1,
                    b.getInt(at) * 2, 1 << 30, random.nextInt()};
                final int value = hostile[random.nextInt(hostile.length)];
                b.putInt(at, value);
                name = "length-field";
                detail = "int at " + at + " set to " + value;
            }
            case 3 -> {
                // on a 4-byte boundary of the learner state, where its weights and fp32 state lie
                final float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
                final int at = base.stateAt() + 4 * random.nextInt((p.length - base.stateAt()) / 4);
                ByteBuffer.wrap(p).putFloat(at, specials[random.nextInt(specials.length)]);
                name = "nan-float";
                detail = "at " + at;
            }
            case 4 -> {
                final int at = random.nextInt(p.length - 7);
                ByteBuffer.wrap(p).putDouble(at, random.nextBoolean() ? Double.NaN : Double.POSITIVE_INFINITY);
                name = "nan-double";
                detail = "at " + at;
            }
            case 5 -> {
                final int at = random.nextInt(p.length);
                final int n = Math.min(p.length - at, 1 + random.nextInt(16));
                for (int i = 0; i < n; i++) {
                    p[at + i] = (byte) random.nextInt(256);
                }
                name = "garbage";
                detail = n + " bytes at " + at;
            }
            default -> {
                final int at = random.nextInt(p.length);
                final int n = Math.min(p.length - at, 1 + random.nextInt(24));
                if (random.nextBoolean()) {
                    out = new byte[p.length - n];
                    System.arraycopy(p, 0, out, 0, at);
                    System.arraycopy(p, at + n, out, at, p.length - at - n);
                    name = "splice-delete";
                } else {
                    out = new byte[p.length + n];
                    System.arraycopy(p, 0, out, 0, at + n);
                    System.arraycopy(p, at, out, at + n, p.length - at);
                    name = "splice-duplicate";
                }
                detail = n + " bytes at " + at;
            }
        }
        final byte[] payload = out;
        return new Mutation(name, detail, () -> topicOf(base.version(), payload));
    }

    /** The chunk records damaged (the payload as published, so only the records' claims lie). */
    private static Mutation recordMutation(final Base base, final SplittableRandom random) {
        final List<ModelSnapshotChunk> chunks = OfflineSnapshots.chunks("m", base.version(), TrainerCheckpoint.FORMAT,
                base.payload(), Math.max(64, base.payload().length / 3));
        final int victim = random.nextInt(chunks.size());
        final ModelSnapshotChunk c = chunks.get(victim);
        final int kind = random.nextInt(9);
        final String name;
        // under the key of each chunk: its record, or a String for an undecodable one
        final List<Object> records = new ArrayList<>(chunks);
        final List<Integer> keys = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            keys.add(i);
        }
        switch (kind) {
            case 0 -> {
                final long[] values = {Integer.MAX_VALUE, -1, Long.MAX_VALUE, c.getTotalBytes() + 1, c.getTotalBytes() - 1, 0};
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setTotalBytes(values[random.nextInt(values.length)])
                        .build());
                name = "record-total-bytes";
            }
            case 1 -> {
                final int[] values = {0, -1, Integer.MAX_VALUE, c.getChunkCount() + 1, c.getChunkCount() - 1};
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setChunkCount(values[random.nextInt(values.length)])
                        .build());
                name = "record-chunk-count";
            }
            case 2 -> {
                final int[] values = {-1, c.getChunkCount(), Integer.MAX_VALUE, (victim + 1) % c.getChunkCount()};
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setChunkIndex(values[random.nextInt(values.length)])
                        .build());
                name = "record-chunk-index";
            }
            case 3 -> {
                records.remove(victim);
                keys.remove(victim);
                name = "record-lost";
            }
            case 4 -> {
                records.add(ModelSnapshotChunk.newBuilder(c).setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3})).build());
                keys.add(victim); // a later record under the same key replaces the chunk
                name = "record-replaced-shorter";
            }
            case 5 -> {
                final ByteBuffer payload = c.getPayload().duplicate();
                final byte[] bytes = new byte[payload.remaining()];
                payload.get(bytes);
                if (bytes.length > 0) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
                }
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setPayload(ByteBuffer.wrap(bytes)).build());
                name = "record-payload-flip";
            }
            case 6 -> {
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setSha256("0".repeat(64)).build());
                name = "record-checksum";
            }
            case 7 -> {
                records.set(victim, "undecodable: malformed Avro body");
                name = "record-undecodable";
            }
            default -> {
                records.set(victim, ModelSnapshotChunk.newBuilder(c).setVersion(c.getVersion() + 1 + random.nextInt(3))
                        .build());
                name = "record-version";
            }
        }
        return new Mutation(name, "chunk " + victim + " of " + chunks.size(), () -> {
            final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap());
            for (int i = 0; i < records.size(); i++) {
                final byte[] key = OfflineSnapshots.key("m", base.version(), keys.get(i));
                if (records.get(i) instanceof String why) {
                    topic.undecodable(key, why);
                } else {
                    topic.add(key, (ModelSnapshotChunk) records.get(i));
                }
            }
            return topic;
        });
    }

    private String kinds() {
        final StringBuilder b = new StringBuilder();
        byKind.forEach((k, v) -> b.append(k).append('=').append(v[0]).append('/').append(v[1]).append(' '));
        return b.toString().trim();
    }

    private void writeFigures(final int tried, final int refused, final int restored) throws IOException {
        final Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("snapshots_tried", tried);
        figures.put("snapshots_refused_with_reason", refused);
        figures.put("snapshots_restored", restored);
        figures.put("snapshots_failed", failures.size());
        figures.put("snapshots_seed", SEED);
        byKind.forEach((k, v) -> {
            figures.put("snapshots_restored_" + k.replace('-', '_'), v[0]);
            figures.put("snapshots_refused_" + k.replace('-', '_'), v[1]);
        });
        final StringBuilder json = new StringBuilder("{");
        figures.forEach((k, v) -> json.append(json.length() > 1 ? ", " : "").append('"').append(k).append("\": ")
                .append(v));
        json.append("}\n");
        final Path file = Path.of(System.getProperty("hostile.results.dir", "target/hostile-input"), "snapshots.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, json, StandardCharsets.UTF_8);
    }
}
