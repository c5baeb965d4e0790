package io.spillway.app.trainer;

import io.spillway.schemas.avro.ModelSnapshotChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each chunk of each snapshot version of one model lies on the snapshots topic, and what it claims: metadata
 * only, never payloads, so that reading a topic of many versions holds none of them in memory. The last record
 * of a key wins, as compaction will make it: a tombstone retires the chunk's version, a malformed record
 * replaces the chunk it names and so spoils its version. {@link #next} then assembles the versions newest
 * first, one at a time, fetching their payloads only once the metadata shows them complete and consistent.
 *
 * <p>Every record claim is checked before it is believed: chunk index and count, {@code totalBytes} no larger than
 * an array can be, the payload no larger than the whole, a well-formed checksum, a key that agrees with the value.
 * A complete version larger than the limit is refused as a mismatch (a model too big for this JVM's heap), never
 * allocated.
 * Refusals go to the given consumer. Not thread-safe.
 */
final class SnapshotIndex {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotIndex.class);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_FORMAT_LENGTH = 200;

    /** A record's place on the topic. */
    record Location(String topic, int partition, long offset) {
        @Override
        public String toString() {
            return topic + "-" + partition + "@" + offset;
        }
    }

    /** Fetches the records at {@code locations} (one version's chunks), handing each to {@code sink} as it comes. */
    interface Fetcher {
        void fetch(List<Location> locations, ChunkSink sink) throws IOException;
    }

    /** Receives fetched chunks; a location never handed over is gone from the topic. */
    interface ChunkSink {
        void accept(Location at, ModelSnapshotChunk chunk) throws IOException;
    }

    /** The key of a snapshot record, {@code modelId/version/chunkIndex}, or null when it is not one. */
    record Key(String modelId, long version, int chunk) {
        static Key parse(final byte[] key) {
            if (key == null) {
                return null;
            }
            final String s = new String(key, StandardCharsets.UTF_8);
            final int last = s.lastIndexOf('/');
            final int middle = last <= 0 ? -1 : s.lastIndexOf('/', last - 1);
            if (middle <= 0) {
                return null;
            }
            try {
                final long version = Long.parseLong(s.substring(middle + 1, last));
                final int chunk = Integer.parseInt(s.substring(last + 1));
                return version < 0 || chunk < 0 ? null : new Key(s.substring(0, middle), version, chunk);
            } catch (final NumberFormatException e) {
                return null;
            }
        }
    }

    /** One chunk's latest record: its claims, or that it was retired or refused. */
    private record Entry(Location at, int chunkCount, long totalBytes, String sha256, String format, int payloadBytes,
                         boolean retired, String refused) {
        static Entry retired(final Location at) {
            return new Entry(at, 0, 0, null, null, 0, true, null);
        }

        static Entry refused(final Location at, final String why) {
            return new Entry(at, 0, 0, null, null, 0, false, why);
        }
    }

    private final String modelId;
    private final SnapshotReader.Limits limits;
    private final Consumer<SnapshotRefusal> refusals;
    private final TreeMap<Long, Map<Integer, Entry>> versions = new TreeMap<>();
    private final Map<String, String> strings = new HashMap<>();
    private long entries;
    private long droppedVersions;

    SnapshotIndex(final String modelId, final SnapshotReader.Limits limits, final Consumer<SnapshotRefusal> refusals) {
        this.modelId = modelId;
        this.limits = limits;
        this.refusals = refusals;
    }

    /**
     * Whether a record with this key may be of the model (so its value needs decoding): false only for a
     * well-formed key of another model.
     */
    boolean mayConcern(final byte[] key) {
        final Key k = Key.parse(key);
        return k == null || k.modelId().equals(modelId);
    }

    /** A tombstone: the chunk its key names is retired, and so its version. */
    void tombstone(final Location at, final byte[] key) {
        final Key k = Key.parse(key);
        if (k != null && k.modelId().equals(modelId)) {
            put(k.version(), k.chunk(), Entry.retired(at));
        }
    }

    /** A record whose value could not be decoded: refused, and the chunk its key names (if any) spoilt. */
    void undecodable(final Location at, final byte[] key, final String why) {
        final Key k = Key.parse(key);
        if (k != null && !k.modelId().equals(modelId)) {
            return; // another model's: not ours to judge
        }
        refuseRecord(at, "undecodable: " + why);
        if (k != null) {
            put(k.version(), k.chunk(), Entry.refused(at, "undecodable: " + why));
        }
    }

    /** A decoded record: indexed if it is this model's and its claims hold, refused if they do not. */
    void add(final Location at, final byte[] key, final ModelSnapshotChunk c) {
        final Key k = Key.parse(key);
        if (!modelId.equals(String.valueOf(c.getModelId()))) {
            if (k != null && k.modelId().equals(modelId)) {
                refuseRecord(at, "its key names model " + modelId + ", its value model " + c.getModelId());
                put(k.version(), k.chunk(), Entry.refused(at, "the value is of another model"));
            }
            return;
        }
        final String why = problem(k, c);
        if (why != null) {
            refuseRecord(at, why);
            if (k != null) {
                put(k.version(), k.chunk(), Entry.refused(at, why));
            } else if (c.getVersion() >= 0 && c.getChunkIndex() >= 0) {
                put(c.getVersion(), c.getChunkIndex(), Entry.refused(at, why));
            }
            return;
        }
        put(c.getVersion(), c.getChunkIndex(), new Entry(at, c.getChunkCount(), c.getTotalBytes(),
                intern(String.valueOf(c.getSha256())), intern(String.valueOf(c.getFormat())), c.getPayload().remaining(),
                false, null));
    }

    /** What is wrong with a record's claims, or null. */
    private String problem(final Key k, final ModelSnapshotChunk c) {
        if (c.getVersion() < 0) {
            return "version is negative: " + c.getVersion();
        }
        if (c.getChunkCount() < 1 || c.getChunkCount() > limits.maxIndexedChunks()) {
            return "chunkCount " + c.getChunkCount() + " outside [1, " + limits.maxIndexedChunks() + "]";
        }
        if (c.getChunkIndex() < 0 || c.getChunkIndex() >= c.getChunkCount()) {
            return "chunkIndex " + c.getChunkIndex() + " outside [0, " + c.getChunkCount() + ")";
        }
        if (c.getTotalBytes() < 0 || c.getTotalBytes() > SnapshotReader.Limits.ARRAY_LIMIT) {
            return "totalBytes " + c.getTotalBytes() + " outside [0, " + SnapshotReader.Limits.ARRAY_LIMIT + "]";
        }
        if (c.getPayload().remaining() > c.getTotalBytes()) {
            return "payload of " + c.getPayload().remaining() + " bytes exceeds totalBytes " + c.getTotalBytes();
        }
        if (!SHA256.matcher(c.getSha256()).matches()) {
            return "sha256 is not 64 lower-case hex digits";
        }
        if (c.getFormat().isEmpty() || c.getFormat().length() > MAX_FORMAT_LENGTH) {
            return "format is empty or longer than " + MAX_FORMAT_LENGTH + " characters";
        }
        if (k != null && (k.version() != c.getVersion() || k.chunk() != c.getChunkIndex())) {
            return "its key names version " + k.version() + " chunk " + k.chunk() + ", its value version "
                    + c.getVersion() + " chunk " + c.getChunkIndex();
        }
        return null;
    }

    private void put(final long version, final int chunk, final Entry e) {
        final Entry old = versions.computeIfAbsent(version, v -> new HashMap<>()).put(chunk, e);
        if (old == null) {
            entries++;
        }
        while (entries > limits.maxIndexedChunks()) {
            final Map.Entry<Long, Map<Integer, Entry>> oldest = versions.pollFirstEntry();
            entries -= oldest.getValue().size();
            if (droppedVersions++ == 0) {
                LOG.warn("Snapshots of model {}: more than {} chunks on the topic; forgetting the oldest versions "
                        + "(from version {})", modelId, limits.maxIndexedChunks(), oldest.getKey());
            }
        }
    }

    private String intern(final String s) {
        return strings.computeIfAbsent(s, v -> v);
    }

    private void refuseRecord(final Location at, final String why) {
        refusals.accept(new SnapshotRefusal(modelId, -1, at.topic(), at.partition(), at.offset(), why, false));
    }

    private void refuseVersion(final long version, final Location at, final String why) {
        refusals.accept(new SnapshotRefusal(modelId, version, at.topic(), at.partition(), at.offset(), why, false));
    }

    /** A version assembled and checked against its checksum. */
    record Assembled(SnapshotReader.Snapshot snapshot, Location first) {
    }

    /**
     * The newest version not tried yet that is complete, consistent and matches its checksum, assembled in one
     * array; the versions newer than it that are not are refused (retired ones are skipped quietly). Each call
     * forgets the versions it went through, so a caller that rejects the payload calls again for the next older.
     */
    Optional<Assembled> next(final Fetcher fetcher) throws IOException {
        while (!versions.isEmpty()) {
            final Map.Entry<Long, Map<Integer, Entry>> e = versions.pollLastEntry();
            entries -= e.getValue().size();
            final long version = e.getKey();
            final Map<Integer, Entry> chunks = e.getValue();
            if (chunks.values().stream().anyMatch(Entry::retired)) {
                LOG.debug("Snapshot version {} of model {} is retired", version, modelId);
                continue;
            }
            final Entry first = chunks.containsKey(0) ? chunks.get(0) : chunks.values().iterator().next();
            final String why = incomplete(chunks, first);
            if (why != null) {
                refuseVersion(version, first.at(), why);
                continue;
            }
            if (first.totalBytes() > limits.maxSnapshotBytes()) {
                // real chunks add up to this size: a model too big for this JVM, not damage (so not started afresh)
                refusals.accept(new SnapshotRefusal(modelId, version, first.at().topic(), first.at().partition(),
                        first.at().offset(), "it is " + first.totalBytes() + " bytes, more than the limit of "
                        + limits.maxSnapshotBytes() + " (a quarter of the heap): give the JVM more heap", true));
                continue;
            }
            final Optional<Assembled> assembled = assemble(version, chunks, first, fetcher);
            if (assembled.isPresent()) {
                return assembled;
            }
        }
        return Optional.empty();
    }

    /** Versions still indexed (older than the last one {@link #next} returned): version to chunk count, when complete. */
    Map<Long, Integer> remainingComplete() {
        final Map<Long, Integer> out = new TreeMap<>();
        versions.forEach((version, chunks) -> {
            final Entry first = chunks.values().iterator().next();
            if (chunks.values().stream().noneMatch(Entry::retired) && incomplete(chunks, first) == null) {
                out.put(version, first.chunkCount());
            }
        });
        return out;
    }

    /** Why the version's chunks do not make one complete, consistent snapshot, or null. */
    private static String incomplete(final Map<Integer, Entry> chunks, final Entry first) {
        for (final Map.Entry<Integer, Entry> c : chunks.entrySet()) {
            if (c.getValue().refused() != null) {
                return "chunk " + c.getKey() + " is the refused record at " + c.getValue().at() + " ("
                        + c.getValue().refused() + ")";
            }
        }
        long payload = 0;
        for (final Entry c : chunks.values()) {
            if (c.chunkCount() != first.chunkCount() || c.totalBytes() != first.totalBytes()
                    || !c.sha256().equals(first.sha256()) || !c.format().equals(first.format())) {
                return "its chunks disagree on chunkCount, totalBytes, sha256 or format (" + first.at() + " and "
                        + c.at() + ")";
            }
            payload += c.payloadBytes();
        }
        if (chunks.size() != first.chunkCount()) {
            final List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < first.chunkCount() && missing.size() < 5; i++) {
                if (!chunks.containsKey(i)) {
                    missing.add(i);
                }
            }
            return "incomplete: " + chunks.size() + " of " + first.chunkCount() + " chunks (missing " + missing
                    + (first.chunkCount() - chunks.size() > missing.size() ? " and more" : "") + ")";
        }
        if (payload != first.totalBytes()) {
            return "its chunks' payloads add up to " + payload + " bytes, totalBytes says " + first.totalBytes();
        }
        return null;
    }

    private Optional<Assembled> assemble(final long version, final Map<Integer, Entry> chunks, final Entry first,
                                         final Fetcher fetcher) throws IOException {
        final byte[] state = new byte[Math.toIntExact(first.totalBytes())]; // bounded by the limit and backed by payloads
        final Map<Location, Integer> wanted = new HashMap<>();
        final Map<Location, Integer> at = new HashMap<>();
        final List<Location> locations = new ArrayList<>();
        int position = 0;
        for (int i = 0; i < first.chunkCount(); i++) {
            final Entry c = chunks.get(i);
            wanted.put(c.at(), i);
            at.put(c.at(), position);
            locations.add(c.at());
            position += c.payloadBytes();
        }
        final String[] problem = new String[1];
        fetcher.fetch(locations, (where, chunk) -> {
            final Integer index = wanted.remove(where);
            if (index == null || problem[0] != null) {
                return;
            }
            final Entry claimed = chunks.get(index);
            final ByteBuffer payload = chunk.getPayload().duplicate();
            if (chunk.getVersion() != version || chunk.getChunkIndex() != index
                    || payload.remaining() != claimed.payloadBytes()) {
                problem[0] = "chunk " + index + " at " + where + " is not the record indexed there";
                return;
            }
            payload.get(state, at.get(where), payload.remaining());
        });
        if (problem[0] == null && !wanted.isEmpty()) {
            problem[0] = "chunk " + wanted.values().iterator().next() + " is no longer on the topic (compacted while "
                    + "reading?)";
        }
        if (problem[0] == null) {
            final String sha = sha256(state);
            if (!sha.equals(first.sha256())) {
                problem[0] = "checksum mismatch: its " + state.length + " bytes hash to " + sha + ", its chunks say "
                        + first.sha256();
            }
        }
        if (problem[0] != null) {
            refuseVersion(version, chunks.get(0).at(), problem[0]);
            return Optional.empty();
        }
        return Optional.of(new Assembled(new SnapshotReader.Snapshot(version, state, first.chunkCount(),
                first.format()), chunks.get(0).at()));
    }

    static String sha256(final byte[] data) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (final java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
