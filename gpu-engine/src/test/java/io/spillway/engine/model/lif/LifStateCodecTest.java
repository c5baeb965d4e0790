package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Bitwise round trips of the checkpoint record, from silent to fully spiking populations. */
class LifStateCodecTest {

    private static LifState state(final int batch, final int layers, final int n, final double activity,
                                  final long seed) {
        final Random r = new Random(seed);
        final float[] v = new float[batch * layers * n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        if (v.length > 3) {
            v[0] = -0.0f;
            v[1] = Float.intBitsToFloat(0x7fc01234); // a NaN with payload: raw bits must survive
            v[2] = Float.MIN_VALUE;
        }
        final int[][] s = new int[batch * layers][];
        for (int p = 0; p < s.length; p++) {
            s[p] = IntStream.range(0, n).filter(i -> r.nextDouble() < activity).toArray();
        }
        return new LifState(batch, layers, n, v, s);
    }

    @ParameterizedTest(name = "batch={0} layers={1} hidden={2} activity={3}")
    @CsvSource({"3, 2, 64, 0.0", "3, 2, 64, 1.0", "2, 2, 100, 0.03", "2, 3, 100, 0.5", "1, 1, 1, 1.0",
        "1, 1, 70000, 0.001", "1, 1, 70000, 0.2"})
    void roundTripIsBitwise(final int batch, final int layers, final int n, final double activity) {
        final LifState s = state(batch, layers, n, activity, 17L);
        final LifStateCodec codec = new LifStateCodec(batch, layers, n);
        for (final ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            final ByteBuffer buf = ByteBuffer.allocate(codec.maxEncodedBytes() + 7).order(order);
            buf.position(7);
            final int written = codec.encode(s, buf);
            assertThat(written).isEqualTo(codec.encodedBytes(s)).isLessThanOrEqualTo(codec.maxEncodedBytes());
            buf.flip().position(7);
            final LifState back = codec.decode(buf);
            assertThat(buf.remaining()).isZero();
            assertThat(back.sameAs(s)).isTrue();
            if (n > 3) {
                assertThat(Float.floatToRawIntBits(back.potential(0, 0, 1))).isEqualTo(0x7fc01234);
            }
        }
    }

    @Test
    void adaptiveStatesKeepTheirAdaptationBitwise() {
        final LifState plain = state(2, 2, 40, 0.3, 5L);
        final float[] v = new float[2 * 2 * 40];
        final float[] a = new float[v.length];
        final int[][] spikes = new int[4][];
        for (int p = 0; p < 4; p++) {
            spikes[p] = plain.spikeIds(p / 2, p % 2);
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = plain.potential(i / 80, (i / 40) % 2, i % 40);
            a[i] = i * 0.37f;
        }
        a[3] = -0.0f;
        final LifState s = new LifState(2, 2, 40, v, a, spikes);
        final LifStateCodec codec = new LifStateCodec(2, 2, 40, true);
        final ByteBuffer buf = ByteBuffer.allocate(codec.maxEncodedBytes());
        assertThat(codec.encode(s, buf)).isEqualTo(codec.encodedBytes(s));
        buf.flip();
        final LifState back = codec.decode(buf);
        assertThat(back.sameAs(s)).isTrue();
        assertThat(back.sameAs(plain)).isFalse();
        buf.flip();
        assertThatThrownBy(() -> new LifStateCodec(2, 2, 40).decode(buf)).hasMessageContaining("40 adaptive");
        assertThatThrownBy(() -> new LifStateCodec(2, 2, 40).encode(s, ByteBuffer.allocate(100000)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sparseRecordsAreSmallAndDenseOnesCapped() {
        final LifStateCodec codec = new LifStateCodec(1, 1, 1024);
        final int vBlock = 12 + 4 * 1024;
        // 5% of 1024 neurons as uint16 ids: 2 bytes per spike
        assertThat(codec.encodedBytes(state(1, 1, 1024, 0.05, 3L)) - vBlock)
                .isEqualTo(4 + 2 * state(1, 1, 1024, 0.05, 3L).spikeCount());
        // all spiking: bitmap of 128 bytes instead of 2048 bytes of ids (the count implies the layout)
        assertThat(codec.encodedBytes(state(1, 1, 1024, 1.0, 3L)) - vBlock).isEqualTo(4 + 128);
    }

    @Test
    void rejectsARecordOfAnotherShape() {
        final ByteBuffer buf = ByteBuffer.allocate(new LifStateCodec(2, 1, 8).maxEncodedBytes());
        new LifStateCodec(2, 1, 8).encode(state(2, 1, 8, 0.5, 1L), buf);
        buf.flip();
        assertThatThrownBy(() -> new LifStateCodec(1, 2, 8).decode(buf)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("record is for 2x1x8");
    }
}
