package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.avro.ModelSnapshotChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The snapshot index, without a broker: records whose claims do not hold are refused with their place and reason
 * and spoil only their own version; versions are assembled newest first, one at a time, falling back past
 * incomplete, inconsistent and corrupt ones; tombstones retire versions; other models' records are ignored.
 */
class SnapshotIndexTest {
    private static final String TOPIC = "model-snapshots";
    private static final SnapshotReader.Limits LIMITS = new SnapshotReader.Limits(1 << 20, 1000);

    private final List<SnapshotRefusal> refusals = new ArrayList<>();
    private final SnapshotIndex index = new SnapshotIndex("m", LIMITS, refusals::add);
    /** What the fetcher serves, by offset (partition 0). */
    private final Map<Long, ModelSnapshotChunk> topic = new HashMap<>();
    private long next;
    private int fetches;

    private static byte[] key(final String model, final long version, final int chunk) {
        return (model + "/" + version + "/" + chunk).getBytes(StandardCharsets.UTF_8);
    }

    private static ModelSnapshotChunk.Builder chunk(final String model, final long version, final int index,
                                                    final int count, final byte[] whole, final int from, final int to) {
        return ModelSnapshotChunk.newBuilder().setModelId(model).setInstanceId("i").setVersion(version)
                .setFormat(TrainerCheckpoint.FORMAT).setChunkIndex(index).setChunkCount(count)
                .setTotalBytes(whole.length).setSha256(SnapshotReader.sha256(whole))
                .setPayload(ByteBuffer.wrap(whole, from, to - from)).setCreatedAtMs(0);
    }

    private SnapshotIndex.Location put(final byte[] key, final ModelSnapshotChunk c) {
        final SnapshotIndex.Location at = new SnapshotIndex.Location(TOPIC, 0, next++);
        if (c != null) {
            topic.put(at.offset(), c);
        }
        index.add(at, key, c);
        return at;
    }

    /** Publishes {@code whole} as version {@code version} of {@code model} in {@code count} chunks. */
    private void publish(final String model, final long version, final byte[] whole, final int count) {
        final int size = (whole.length + count - 1) / count;
        for (int c = 0; c < count; c++) {
            put(key(model, version, c), chunk(model, version, c, count, whole, Math.min(whole.length, c * size),
                    Math.min(whole.length, (c + 1) * size)).build());
        }
    }

    private Optional<SnapshotReader.Snapshot> next() throws IOException {
        return index.next((locations, sink) -> {
            fetches++;
            for (final SnapshotIndex.Location l : locations) {
                final ModelSnapshotChunk c = topic.get(l.offset());
                if (c != null) {
                    sink.accept(l, c);
                }
            }
        }).map(SnapshotIndex.Assembled::snapshot);
    }

    private static byte[] bytes(final int n, final int seed) {
        final byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    @Test
    void assemblesTheNewestCompleteVersionAndThenTheOlderOnes() throws IOException {
        publish("m", 20, bytes(100, 1), 3);
        publish("m", 40, bytes(90, 2), 4);
        final SnapshotReader.Snapshot newest = next().orElseThrow();
        assertThat(newest.version()).isEqualTo(40);
        assertThat(newest.state()).isEqualTo(bytes(90, 2));
        assertThat(newest.chunkCount()).isEqualTo(4);
        assertThat(index.remainingComplete()).containsExactly(Map.entry(20L, 3));
        assertThat(next().orElseThrow().state()).isEqualTo(bytes(100, 1));
        assertThat(next()).isEmpty();
        assertThat(refusals).isEmpty();
        assertThat(fetches).as("one version fetched at a time").isEqualTo(2);
    }

    @Test
    void hostileTotalBytesAreRefusedBeforeAnythingIsAllocated() throws IOException {
        publish("m", 20, bytes(100, 1), 2);
        final byte[] small = bytes(10, 3);
        final SnapshotIndex.Location huge = put(key("m", 41, 0),
                chunk("m", 41, 0, 1, small, 0, 10).setTotalBytes(Integer.MAX_VALUE).build());
        final SnapshotIndex.Location negative = put(key("m", 42, 0),
                chunk("m", 42, 0, 1, small, 0, 10).setTotalBytes(-1).build());
        // another model's equally bad record: ignored, it is not ours to judge
        put(key("other", 43, 0), chunk("other", 43, 0, 1, small, 0, 10).setTotalBytes(-1).build());

        assertThat(refusals).hasSize(2);
        assertThat(refusals.get(0).reason()).contains("totalBytes 2147483647 outside [0, 2147483639]");
        assertThat(refusals.get(0).where()).isEqualTo(TOPIC + "-0@" + huge.offset());
        assertThat(refusals.get(1).reason()).contains("totalBytes -1 outside");
        assertThat(refusals.get(1).offset()).isEqualTo(negative.offset());
        assertThat(next().orElseThrow().version()).as("the good version, past the two spoilt ones").isEqualTo(20);
        assertThat(refusals).hasSize(4);
        assertThat(refusals.get(2).version()).isEqualTo(42);
        assertThat(refusals.get(2).reason()).contains("refused record");
        assertThat(refusals.get(3).version()).isEqualTo(41);
    }

    @Test
    void undecodableRecordsAreRefusedWithTheirPlaceAndSpoilOnlyTheChunkTheirKeyNames() throws IOException {
        publish("m", 20, bytes(100, 1), 2);
        index.undecodable(new SnapshotIndex.Location(TOPIC, 1, 77), key("m", 99, 0), "wrong magic byte");
        index.undecodable(new SnapshotIndex.Location(TOPIC, 1, 78), "garbage".getBytes(StandardCharsets.UTF_8), "too short");
        index.undecodable(new SnapshotIndex.Location(TOPIC, 1, 79), null, "too short");
        index.undecodable(new SnapshotIndex.Location(TOPIC, 1, 80), key("other", 5, 0), "wrong magic byte");
        assertThat(refusals).extracting(SnapshotRefusal::offset).containsExactly(77L, 78L, 79L);
        assertThat(refusals.getFirst().reason()).isEqualTo("undecodable: wrong magic byte");
        assertThat(refusals.getFirst().ofVersion()).isFalse();
        assertThat(next().orElseThrow().version()).isEqualTo(20);
        assertThat(refusals.getLast().version()).isEqualTo(99);
    }

    @Test
    void claimsThatDoNotHoldAreRefused() throws IOException {
        final byte[] w = bytes(10, 1);
        put(key("m", 1, 0), chunk("m", 1, 0, 1, w, 0, 10).setChunkIndex(5).build());
        put(key("m", 2, 0), chunk("m", 2, 0, 0, w, 0, 10).build());
        put(key("m", 3, 0), chunk("m", 3, 0, 1, w, 0, 10).setChunkCount(Integer.MAX_VALUE).build());
        put(key("m", 4, 0), chunk("m", 4, 0, 1, w, 0, 10).setTotalBytes(5).build());
        put(key("m", 5, 0), chunk("m", 5, 0, 1, w, 0, 10).setSha256("zz").build());
        put(key("m", 6, 0), chunk("m", 6, 0, 1, w, 0, 10).setVersion(7).build());
        put(key("m", 8, 0), chunk("m", 8, 0, 1, w, 0, 10).setFormat("").build());
        put(key("m", 9, 0), chunk("other", 9, 0, 1, w, 0, 10).build());
        put(null, chunk("m", -4, 0, 1, w, 0, 10).build());
        assertThat(refusals).extracting(SnapshotRefusal::reason).containsExactly(
                "chunkIndex 5 outside [0, 1)", "chunkCount 0 outside [1, 1000]", "chunkCount 2147483647 outside [1, 1000]",
                "payload of 10 bytes exceeds totalBytes 5", "sha256 is not 64 lower-case hex digits",
                "its key names version 6 chunk 0, its value version 7 chunk 0",
                "format is empty or longer than 200 characters", "its key names model m, its value model other",
                "version is negative: -4");
        assertThat(next()).isEmpty();
    }

    @Test
    void incompleteInconsistentAndCorruptVersionsFallBackToTheNewestGoodOne() throws IOException {
        publish("m", 10, bytes(60, 1), 2);
        // 20: a chunk missing
        final byte[] w20 = bytes(60, 2);
        put(key("m", 20, 0), chunk("m", 20, 0, 2, w20, 0, 30).build());
        // 30: the chunks disagree on the checksum
        final byte[] w30 = bytes(60, 3);
        put(key("m", 30, 0), chunk("m", 30, 0, 2, w30, 0, 30).build());
        put(key("m", 30, 1), chunk("m", 30, 1, 2, w30, 30, 60).setSha256(SnapshotReader.sha256(w20)).build());
        // 40: complete but a payload changed, so the checksum fails
        final byte[] w40 = bytes(60, 4);
        final byte[] flipped = w40.clone();
        flipped[45] ^= 1;
        put(key("m", 40, 0), chunk("m", 40, 0, 2, w40, 0, 30).build());
        put(key("m", 40, 1), chunk("m", 40, 1, 2, w40, 30, 60).setPayload(ByteBuffer.wrap(flipped, 30, 30)).build());
        // 50: payloads short of totalBytes
        final byte[] w50 = bytes(60, 5);
        put(key("m", 50, 0), chunk("m", 50, 0, 1, w50, 0, 59).build());

        assertThat(next().orElseThrow().version()).isEqualTo(10);
        assertThat(refusals).extracting(SnapshotRefusal::version).containsExactly(50L, 40L, 30L, 20L);
        assertThat(refusals.get(0).reason()).contains("payloads add up to 59 bytes, totalBytes says 60");
        assertThat(refusals.get(1).reason()).contains("checksum mismatch");
        assertThat(refusals.get(2).reason()).contains("disagree");
        assertThat(refusals.get(3).reason()).contains("incomplete: 1 of 2 chunks (missing [1])");
        assertThat(fetches).as("only versions whose metadata is complete are fetched").isEqualTo(2);
    }

    @Test
    void aTombstoneRetiresItsVersionQuietlyAndALaterRecordRevivesTheChunk() throws IOException {
        publish("m", 10, bytes(60, 1), 2);
        publish("m", 20, bytes(60, 2), 2);
        index.tombstone(new SnapshotIndex.Location(TOPIC, 0, next++), key("m", 20, 0));
        index.tombstone(new SnapshotIndex.Location(TOPIC, 0, next++), key("other", 10, 0));
        assertThat(next().orElseThrow().version()).isEqualTo(10);
        assertThat(refusals).isEmpty();

        publish("m", 30, bytes(60, 3), 2);
        index.tombstone(new SnapshotIndex.Location(TOPIC, 0, next++), key("m", 30, 1));
        publish("m", 30, bytes(60, 3), 2); // a replay publishes the version again, under the same keys
        assertThat(next().orElseThrow().version()).isEqualTo(30);
    }

    @Test
    void aChunkGoneFromTheTopicBetweenThePassesSpoilsItsVersion() throws IOException {
        publish("m", 10, bytes(60, 1), 2);
        publish("m", 20, bytes(60, 2), 2);
        topic.remove(3L); // compacted away after indexing
        assertThat(next().orElseThrow().version()).isEqualTo(10);
        assertThat(refusals.getFirst().reason()).contains("no longer on the topic");
    }

    @Test
    void aCompleteVersionBeyondTheLimitIsAMismatchNotDamageAndIsNeverAssembled() throws IOException {
        final SnapshotIndex small = new SnapshotIndex("m", new SnapshotReader.Limits(50, 1000), refusals::add);
        final byte[] w = bytes(60, 1);
        final SnapshotIndex.Location at = new SnapshotIndex.Location(TOPIC, 0, 0);
        topic.put(0L, chunk("m", 1, 0, 1, w, 0, 60).build());
        small.add(at, key("m", 1, 0), topic.get(0L));
        assertThat(small.next((l, sink) -> fetches++)).isEmpty();
        assertThat(fetches).isZero();
        assertThat(refusals).singleElement().satisfies(r -> {
            assertThat(r.mismatch()).isTrue();
            assertThat(r.reason()).contains("60 bytes, more than the limit of 50").contains("more heap");
        });
    }

    @Test
    void theIndexForgetsTheOldestVersionsBeyondItsChunkLimit() throws IOException {
        final SnapshotIndex small = new SnapshotIndex("m", new SnapshotReader.Limits(1 << 20, 4), refusals::add);
        for (long v = 1; v <= 5; v++) {
            final byte[] w = bytes(10, (int) v);
            for (int c = 0; c < 2; c++) {
                final SnapshotIndex.Location at = new SnapshotIndex.Location(TOPIC, 0, next++);
                final ModelSnapshotChunk chunk = chunk("m", v, c, 2, w, c * 5, c * 5 + 5).build();
                topic.put(at.offset(), chunk);
                small.add(at, key("m", v, c), chunk);
            }
        }
        assertThat(small.remainingComplete()).containsOnlyKeys(4L, 5L);
    }
}
