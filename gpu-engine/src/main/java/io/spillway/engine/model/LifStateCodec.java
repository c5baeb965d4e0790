package io.spillway.engine.model;

import io.spillway.engine.checkpoint.StateCodec;
import java.nio.ByteBuffer;

/**
 * Lossless record of a {@link LifState} (spec section 3.2): a header ({@code batch, layers, hidden}; the
 * sign bit of {@code hidden} marks adaptation), the potentials as raw fp32 bits, the adaptation variables
 * likewise when the model has an adaptive threshold, then per population a format byte, the spike count and the ids: uint16 when
 * {@code hidden <= 65536}, else int32, or a bitmap when that is smaller (above about 6% activity for uint16
 * ids). Records are bounded by {@link #maxEncodedBytes()} whatever the activity, because the bitmap caps
 * every spike block at {@code ceil(hidden / 8)} bytes. Byte order is the buffer's.
 */
public final class LifStateCodec implements StateCodec<LifState> {
    private static final byte IDS16 = 0;
    private static final byte IDS32 = 1;
    private static final byte BITMAP = 2;
    private static final int HEADER = 12;
    private static final int BLOCK_HEADER = 5;

    private final int batch;
    private final int layers;
    private final int hidden;
    private final boolean adaptive;

    /** Codec for states without adaptation. */
    public LifStateCodec(final int batch, final int layers, final int hidden) {
        this(batch, layers, hidden, false);
    }

    public LifStateCodec(final int batch, final int layers, final int hidden, final boolean adaptive) {
        this.batch = batch;
        this.layers = layers;
        this.hidden = hidden;
        this.adaptive = adaptive;
    }

    private long denseBytes() {
        return (adaptive ? 8L : 4L) * batch * layers * hidden;
    }

    private int idBytes() {
        return hidden <= 65536 ? 2 : 4;
    }

    private int bitmapBytes() {
        return (hidden + 7) / 8;
    }

    @Override
    public int maxEncodedBytes() {
        final long pops = (long) batch * layers;
        return Math.toIntExact(HEADER + denseBytes() + pops * (BLOCK_HEADER + bitmapBytes()));
    }

    /** Bytes {@link #encode} writes for {@code state}. */
    public int encodedBytes(final LifState state) {
        long bytes = HEADER + denseBytes();
        for (final int[] s : state.rawSpikes()) {
            bytes += BLOCK_HEADER + Math.min((long) idBytes() * s.length, bitmapBytes());
        }
        return Math.toIntExact(bytes);
    }

    @Override
    public int encode(final LifState state, final ByteBuffer out) {
        if (state.batch() != batch || state.layers() != layers || state.hidden() != hidden
                || state.adaptive() != adaptive) {
            throw new IllegalArgumentException("codec for " + batch + "x" + layers + "x" + hidden
                    + (adaptive ? " adaptive" : "") + " got " + state);
        }
        final int start = out.position();
        out.putInt(batch).putInt(layers).putInt(adaptive ? ~hidden : hidden);
        for (final float f : state.rawV()) {
            out.putInt(Float.floatToRawIntBits(f));
        }
        for (final float f : state.rawA()) {
            out.putInt(Float.floatToRawIntBits(f));
        }
        for (final int[] ids : state.rawSpikes()) {
            final boolean bitmap = (long) idBytes() * ids.length > bitmapBytes();
            out.put(bitmap ? BITMAP : idBytes() == 2 ? IDS16 : IDS32);
            out.putInt(ids.length);
            if (bitmap) {
                final byte[] bits = new byte[bitmapBytes()];
                for (final int i : ids) {
                    bits[i >>> 3] |= (byte) (1 << (i & 7));
                }
                out.put(bits);
            } else if (idBytes() == 2) {
                for (final int i : ids) {
                    out.putShort((short) i);
                }
            } else {
                for (final int i : ids) {
                    out.putInt(i);
                }
            }
        }
        return out.position() - start;
    }

    @Override
    public LifState decode(final ByteBuffer in) {
        final int b = in.getInt();
        final int l = in.getInt();
        final int word = in.getInt();
        final int h = word < 0 ? ~word : word;
        if (b != batch || l != layers || h != hidden || (word < 0) != adaptive) {
            throw new IllegalArgumentException("record is for " + b + "x" + l + "x" + h + (word < 0 ? " adaptive" : "")
                    + ", codec for " + batch + "x" + layers + "x" + hidden + (adaptive ? " adaptive" : ""));
        }
        final float[] v = new float[batch * layers * hidden];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.intBitsToFloat(in.getInt());
        }
        final float[] a = new float[adaptive ? v.length : 0];
        for (int i = 0; i < a.length; i++) {
            a[i] = Float.intBitsToFloat(in.getInt());
        }
        final int[][] spikes = new int[batch * layers][];
        for (int p = 0; p < spikes.length; p++) {
            final byte format = in.get();
            final int count = in.getInt();
            if (count < 0 || count > hidden) {
                throw new IllegalArgumentException("corrupt record: " + count + " spikes of " + hidden);
            }
            final int[] ids = new int[count];
            switch (format) {
                case IDS16 -> {
                    for (int k = 0; k < count; k++) {
                        ids[k] = Short.toUnsignedInt(in.getShort());
                    }
                }
                case IDS32 -> {
                    for (int k = 0; k < count; k++) {
                        ids[k] = in.getInt();
                    }
                }
                case BITMAP -> {
                    final byte[] bits = new byte[bitmapBytes()];
                    in.get(bits);
                    int k = 0;
                    for (int i = 0; i < hidden; i++) {
                        if ((bits[i >>> 3] & (1 << (i & 7))) != 0) {
                            if (k == count) {
                                throw new IllegalArgumentException("corrupt record: bitmap has more than " + count);
                            }
                            ids[k++] = i;
                        }
                    }
                    if (k != count) {
                        throw new IllegalArgumentException("corrupt record: bitmap has " + k + " of " + count);
                    }
                }
                default -> throw new IllegalArgumentException("corrupt record: spike format " + format);
            }
            spikes[p] = ids;
        }
        return new LifState(batch, layers, hidden, v, a, spikes);
    }
}
