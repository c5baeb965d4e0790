package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkRecordsTest {

    @Test
    void chunksAndBarriersCarryTheirInputPartition() {
        final TimedChunk chunk = new TimedChunk(new SequenceChunk("k", List.of(
                new SparseEvent(3, new int[] {1}, new float[] {0.5f}, SparseEvent.NO_LABEL),
                new SparseEvent(4, new int[0], new float[0], 2))), new long[] {10, 20}, 5, 7, new long[] {100, 101});
        final byte[] value = ChunkRecords.encode(chunk);
        assertThat(ChunkRecords.isBarrier(value)).isFalse();
        assertThat(ChunkRecords.sourcePartition(value)).isEqualTo(7);
        final TimedChunk back = ChunkRecords.decode(ChunkRecords.key(chunk), value);
        assertThat(back.sourcePartition()).isEqualTo(7);
        assertThat(back.sourceOffsets()).containsExactly(100, 101);
        assertThat(back.chunk().events().get(1).label()).isEqualTo(2);

        final byte[] barrier = ChunkRecords.barrier(3);
        assertThat(ChunkRecords.isBarrier(barrier)).isTrue();
        assertThat(ChunkRecords.sourcePartition(barrier)).isEqualTo(3);
        // barriers of the first format (no partition) still read, as partition 0
        assertThat(ChunkRecords.sourcePartition(new byte[] {1, 2})).isZero();
        assertThat(ChunkRecords.isBarrier(new byte[] {1, 2})).isTrue();
    }
}
