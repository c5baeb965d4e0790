package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.testing.GoldenFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden bytes of the topology's hand-rolled formats (docs/formats.md): chunk records (format 1) and barriers on
 * the chunk topic, and an open chunk's event (format 3) and key meta (format 4) in the state stores and their
 * changelogs. Each file must decode to the fixture it was written from, and the fixture must encode to it: a
 * reader or writer that changes the layout fails here (a changelog or chunk log written by the previous version
 * must still be read after an upgrade).
 *
 * <p>To write the files of a new format: {@code java -cp <test classpath> io.spillway.app.topology.ChunkFormatsGoldenTest
 * streams-app/src/test/resources/golden} (files already there are left alone).
 */
class ChunkFormatsGoldenTest {

    /** Two events of key {@code user-7}: a plain one and one with features and a label. */
    static TimedChunk chunk() {
        return new TimedChunk(new SequenceChunk("user-7", List.of(SparseEvent.ofType(3),
                new SparseEvent(1, new int[] {0, 4}, new float[] {0.5f, -2.25f}, 2))),
                new long[] {1_700_000_000_123L, 1_700_000_000_456L}, 1_699_999_999_000L, 5, new long[] {41, 42});
    }

    static OpenChunk.Buffered buffered() {
        return new OpenChunk.Buffered(1_700_000_000_789L, 43, new SparseEvent(2, new int[] {1}, new float[] {3.5f},
                SparseEvent.NO_LABEL));
    }

    static OpenChunk.Meta meta() {
        return OpenChunk.Meta.handedOver(1_700_000_000_456L, 1_700_000_001_000L);
    }

    static Map<String, byte[]> files() {
        return Map.of("chunk-record-v1.bin", ChunkRecords.encode(chunk()),
                "chunk-barrier-v1.bin", ChunkRecords.barrier(5),
                "open-chunk-event-v3.bin", OpenChunk.encodeEvent(buffered()),
                "open-chunk-meta-v4.bin", OpenChunk.encodeMeta(meta()));
    }

    static byte[] golden(final String file) {
        return GoldenFiles.read(file);
    }

    @Test
    void aGoldenChunkRecordDecodesToItsChunkAndTheChunkEncodesToIt() throws IOException {
        final byte[] bytes = golden("chunk-record-v1.bin");
        assertThat(ChunkRecords.isBarrier(bytes)).isFalse();
        assertThat(ChunkRecords.sourcePartition(bytes)).isEqualTo(5);
        final TimedChunk decoded = ChunkRecords.decode("user-7".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                bytes);
        final TimedChunk expected = chunk();
        assertThat(decoded.key()).isEqualTo("user-7");
        assertThat(decoded.chunk().events()).isEqualTo(expected.chunk().events());
        assertThat(decoded.timestampsMs()).isEqualTo(expected.timestampsMs());
        assertThat(decoded.previousTimestampMs()).isEqualTo(expected.previousTimestampMs());
        assertThat(decoded.sourcePartition()).isEqualTo(5);
        assertThat(decoded.sourceOffsets()).containsExactly(41, 42);
        assertThat(ChunkRecords.encode(expected)).isEqualTo(bytes);
    }

    @Test
    void aGoldenBarrierIsABarrierOfItsPartition() throws IOException {
        final byte[] bytes = golden("chunk-barrier-v1.bin");
        assertThat(ChunkRecords.isBarrier(bytes)).isTrue();
        assertThat(ChunkRecords.sourcePartition(bytes)).isEqualTo(5);
        assertThat(ChunkRecords.barrier(5)).isEqualTo(bytes);
    }

    @Test
    void goldenOpenChunkEntriesDecodeToTheirValuesAndEncodeBack() throws IOException {
        final byte[] event = golden("open-chunk-event-v3.bin");
        assertThat(OpenChunk.decodeEvent(event)).isEqualTo(buffered());
        assertThat(OpenChunk.encodeEvent(buffered())).isEqualTo(event);
        final byte[] meta = golden("open-chunk-meta-v4.bin");
        assertThat(OpenChunk.decodeMeta(meta)).isEqualTo(meta());
        assertThat(OpenChunk.encodeMeta(meta())).isEqualTo(meta);
    }

    /** Writes the golden files missing in the directory given (see the class comment). */
    public static void main(final String[] args) throws IOException {
        GoldenFiles.writeMissing(Path.of(args[0]), files());
    }
}
