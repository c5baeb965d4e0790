package io.spillway.app.trainer;

import io.spillway.schemas.avro.ModelSnapshotChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A snapshots topic in memory (one partition), read through the same {@link SnapshotIndex} as the topic: for
 * tests of restoring without a broker. Records are added as a topic would hold them; then it is a
 * {@link SnapshotSource}.
 */
final class OfflineSnapshots implements SnapshotSource {
    static final String TOPIC = "model-snapshots";

    private final String modelId;
    private final SnapshotReader.Limits limits;
    private final Map<Long, ModelSnapshotChunk> records = new HashMap<>();
    private final List<Object[]> log = new ArrayList<>();
    private final List<SnapshotRefusal> refusals = new ArrayList<>();
    private SnapshotIndex index;
    private SnapshotIndex.Assembled last;

    OfflineSnapshots(final String modelId, final SnapshotReader.Limits limits) {
        this.modelId = modelId;
        this.limits = limits;
    }

    static byte[] key(final String model, final long version, final int chunk) {
        return (model + "/" + version + "/" + chunk).getBytes(StandardCharsets.UTF_8);
    }

    /** The chunk records a trainer would publish for {@code state}, {@code chunkBytes} of payload each. */
    static List<ModelSnapshotChunk> chunks(final String model, final long version, final String format,
                                           final byte[] state, final int chunkBytes) {
        final int count = Math.max(1, (state.length + chunkBytes - 1) / chunkBytes);
        final String sha = SnapshotReader.sha256(state);
        final List<ModelSnapshotChunk> out = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            final int from = c * chunkBytes;
            final int to = Math.min(state.length, from + chunkBytes);
            out.add(ModelSnapshotChunk.newBuilder().setModelId(model).setInstanceId("i").setVersion(version)
                    .setFormat(format).setChunkIndex(c).setChunkCount(count).setTotalBytes(state.length).setSha256(sha)
                    .setPayload(ByteBuffer.wrap(state.clone(), from, to - from)).setCreatedAtMs(0).build());
        }
        return out;
    }

    /** Publishes a snapshot of the model (keys as the trainer writes them). */
    OfflineSnapshots publish(final long version, final String format, final byte[] state, final int chunkBytes) {
        for (final ModelSnapshotChunk c : chunks(modelId, version, format, state, chunkBytes)) {
            add(key(modelId, c.getVersion(), c.getChunkIndex()), c);
        }
        return this;
    }

    /** Appends a decoded record (null: a tombstone). */
    OfflineSnapshots add(final byte[] key, final ModelSnapshotChunk value) {
        log.add(new Object[] {key, value});
        return this;
    }

    /** Appends a record whose value did not decode. */
    OfflineSnapshots undecodable(final byte[] key, final String why) {
        log.add(new Object[] {key, why});
        return this;
    }

    private void indexOnce() {
        if (index != null) {
            return;
        }
        index = new SnapshotIndex(modelId, limits, refusals::add);
        long offset = 0;
        for (final Object[] r : log) {
            final SnapshotIndex.Location at = new SnapshotIndex.Location(TOPIC, 0, offset++);
            final byte[] key = (byte[]) r[0];
            if (!index.mayConcern(key)) {
                continue;
            }
            if (r[1] == null) {
                index.tombstone(at, key);
            } else if (r[1] instanceof String why) {
                index.undecodable(at, key, why);
            } else {
                records.put(at.offset(), (ModelSnapshotChunk) r[1]);
                index.add(at, key, (ModelSnapshotChunk) r[1]);
            }
        }
    }

    @Override
    public Optional<SnapshotReader.Snapshot> next() throws IOException {
        indexOnce();
        final Optional<SnapshotIndex.Assembled> a = index.next((locations, sink) -> {
            for (final SnapshotIndex.Location l : locations) {
                if (records.containsKey(l.offset())) {
                    sink.accept(l, records.get(l.offset()));
                }
            }
        });
        last = a.orElse(null);
        return a.map(SnapshotIndex.Assembled::snapshot);
    }

    @Override
    public void refuse(final SnapshotReader.Snapshot snapshot, final String reason, final boolean mismatch) {
        refusals.add(new SnapshotRefusal(modelId, snapshot.version(), TOPIC, last.first().partition(),
                last.first().offset(), reason, mismatch));
    }

    @Override
    public List<SnapshotRefusal> refusals() {
        indexOnce();
        return Collections.unmodifiableList(refusals);
    }

    @Override
    public Map<Long, Integer> olderVersions() {
        return index.remainingComplete();
    }
}
