package io.spillway.engine.model.egru;

import io.spillway.engine.model.SpikeBlockCodec;
import io.spillway.engine.checkpoint.StateCodec;
import java.nio.ByteBuffer;

/**
 * Lossless record of an {@link EgruState}: a header ({@code batch, layers, hidden}), the pre-reset cell states
 * as raw fp32 bits, then per population a {@link SpikeBlockCodec} block of its event ids (uint16 ids, or a
 * bitmap when that is smaller). Bounded by {@link #maxEncodedBytes()} whatever the activity. Decoding refuses
 * a record of another shape, non-finite cell states and event ids that are not strictly increasing inside
 * the population, so a corrupt record never becomes a state. Byte order is the buffer's.
 */
public final class EgruStateCodec implements StateCodec<EgruState> {
    private static final int HEADER = 12;

    private final int batch;
    private final int layers;
    private final int hidden;
    private final SpikeBlockCodec events;

    public EgruStateCodec(final int batch, final int layers, final int hidden) {
        this.batch = batch;
        this.layers = layers;
        this.hidden = hidden;
        this.events = new SpikeBlockCodec(hidden);
    }

    @Override
    public int maxEncodedBytes() {
        return Math.toIntExact(HEADER + 4L * batch * layers * hidden + (long) batch * layers * events.maxBlockBytes());
    }

    /** Bytes {@link #encode} writes for {@code state}. */
    public int encodedBytes(final EgruState state) {
        long bytes = HEADER + 4L * batch * layers * hidden;
        for (final int[] e : state.rawEvents()) {
            bytes += events.blockBytes(e.length);
        }
        return Math.toIntExact(bytes);
    }

    @Override
    public int encode(final EgruState state, final ByteBuffer out) {
        if (state.batch() != batch || state.layers() != layers || state.hidden() != hidden) {
            throw new IllegalArgumentException("codec for " + batch + "x" + layers + "x" + hidden + " got " + state);
        }
        final int start = out.position();
        out.putInt(batch).putInt(layers).putInt(hidden);
        for (final float f : state.rawCell()) {
            out.putInt(Float.floatToRawIntBits(f));
        }
        for (final int[] ids : state.rawEvents()) {
            events.encode(ids, ids.length, out);
        }
        return out.position() - start;
    }

    @Override
    public EgruState decode(final ByteBuffer in) {
        final int b = in.getInt();
        final int l = in.getInt();
        final int h = in.getInt();
        if (b != batch || l != layers || h != hidden) {
            throw new IllegalArgumentException("record is for " + b + "x" + l + "x" + h + ", codec for " + batch + "x"
                    + layers + "x" + hidden);
        }
        final float[] cell = new float[batch * layers * hidden];
        for (int i = 0; i < cell.length; i++) {
            cell[i] = Float.intBitsToFloat(in.getInt());
            if (!Float.isFinite(cell[i])) {
                throw new IllegalArgumentException("record has a non-finite cell state at " + i);
            }
        }
        final int[][] ids = new int[batch * layers][];
        for (int p = 0; p < ids.length; p++) {
            ids[p] = events.decode(in);
            int last = -1;
            for (final int id : ids[p]) {
                if (id <= last || id >= hidden) {
                    throw new IllegalArgumentException("record has event ids of population " + p
                            + " that are not strictly increasing in [0, " + hidden + ")");
                }
                last = id;
            }
        }
        return new EgruState(batch, layers, hidden, cell, ids);
    }
}
