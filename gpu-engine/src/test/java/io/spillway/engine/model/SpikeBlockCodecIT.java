package io.spillway.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** P3 of docs/spec-double-checkpointing.md (lossless spike blocks) and the block sizes of its experiment E3. */
class SpikeBlockCodecIT {

    private static int[] randomIds(final int n, final int k, final long seed) {
        return new SplittableRandom(seed).ints(0, n).distinct().limit(k).sorted().toArray();
    }

    private static int[] roundTrip(final SpikeBlockCodec codec, final int[] ids) {
        final ByteBuffer out = ByteBuffer.allocate(codec.maxBlockBytes());
        final int written = codec.encode(ids, ids.length, out);
        assertThat(written).isEqualTo(codec.blockBytes(ids.length)).isEqualTo(out.position());
        out.flip();
        final int[] back = codec.decode(out);
        assertThat(out.remaining()).isZero();
        return back;
    }

    @ParameterizedTest(name = "N={0}")
    @ValueSource(ints = {1, 7, 13, 64, 1001, 1024, 65_536, 65_537, 70_001})
    void everyDensityRoundTripsExactlyIncludingNoneAndAll(final int n) {
        final SpikeBlockCodec codec = new SpikeBlockCodec(n);
        assertThat(roundTrip(codec, new int[0])).isEmpty();
        final int[] all = IntStream.range(0, n).toArray();
        assertThat(roundTrip(codec, all)).containsExactly(all);
        for (final double density : new double[] {0.001, 0.01, 0.05, 0.0625, 0.1, 0.5}) {
            final int k = (int) Math.min(n, Math.round(density * n));
            final int[] ids = randomIds(n, k, k * 31L + n);
            assertThat(roundTrip(codec, ids)).as("N=%d k=%d", n, k).containsExactly(ids);
        }
        final int[] edges = n > 1 ? new int[] {0, n - 1} : new int[] {0};
        assertThat(roundTrip(codec, edges)).containsExactly(edges);
    }

    @Test
    void idWidthFollowsThePopulationSize() {
        assertThat(new SpikeBlockCodec(65_536).formatFor(1)).isEqualTo(SpikeBlockCodec.Format.IDS16);
        assertThat(new SpikeBlockCodec(65_537).formatFor(1)).isEqualTo(SpikeBlockCodec.Format.IDS32);
        // Switch to the bitmap exactly when ids are larger: 2k > N/8 (uint16), 4k > N/8 (int32).
        final SpikeBlockCodec small = new SpikeBlockCodec(1024);
        assertThat(small.formatFor(64)).isEqualTo(SpikeBlockCodec.Format.IDS16);
        assertThat(small.formatFor(65)).isEqualTo(SpikeBlockCodec.Format.BITMAP);
        final SpikeBlockCodec large = new SpikeBlockCodec(80_000);
        assertThat(large.formatFor(2_500)).isEqualTo(SpikeBlockCodec.Format.IDS32);
        assertThat(large.formatFor(2_501)).isEqualTo(SpikeBlockCodec.Format.BITMAP);
        for (int k = 0; k <= 1024; k++) {
            assertThat(small.blockBytes(k)).isEqualTo(4 + Math.min(2 * k, 128));
        }
    }

    /** E3 at N = 1024: spike block and checkpoint total (4,096 B of fp32 V plus the block). */
    @ParameterizedTest(name = "k={0}")
    @CsvSource({"10, 24, 4120", "51, 106, 4202", "102, 132, 4228", "512, 132, 4228"})
    void experimentE3BlockSizes(final int k, final int block, final int checkpoint) {
        final SpikeBlockCodec codec = new SpikeBlockCodec(1024);
        assertThat(codec.blockBytes(k)).isEqualTo(block);
        assertThat(4 * 1024 + codec.blockBytes(k)).isEqualTo(checkpoint);
        final int[] ids = randomIds(1024, k, k);
        final ByteBuffer out = ByteBuffer.allocate(codec.maxBlockBytes());
        assertThat(codec.encode(ids, k, out)).isEqualTo(block);
    }

    @Test
    void badIdsAndCorruptBlocksFailClearly() {
        final SpikeBlockCodec codec = new SpikeBlockCodec(100);
        final ByteBuffer out = ByteBuffer.allocate(codec.maxBlockBytes());
        assertThatThrownBy(() -> codec.encode(new int[] {3, 3}, 2, out)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("strictly increasing");
        assertThatThrownBy(() -> codec.encode(new int[] {100}, 1, out)).hasMessageContaining("[0, 100)");
        assertThatThrownBy(() -> codec.encode(new int[0], 101, out)).hasMessageContaining("outside [0, 100]");
        final ByteBuffer corrupt = ByteBuffer.allocate(8).putInt(1).putShort((short) 500);
        corrupt.flip();
        assertThatThrownBy(() -> codec.decode(corrupt)).hasMessageContaining("corrupt spike block");
        final ByteBuffer badCount = ByteBuffer.allocate(4).putInt(-1);
        badCount.flip();
        assertThatThrownBy(() -> codec.decode(badCount)).hasMessageContaining("corrupt spike block");
    }
}
