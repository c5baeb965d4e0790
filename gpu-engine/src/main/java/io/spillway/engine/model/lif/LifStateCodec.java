package io.spillway.engine.model.lif;

import io.spillway.engine.model.SpikeBlockCodec;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.InvalidStateException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * Lossless record of a {@link LifState} (docs/spec-double-checkpointing.md §3.2): a header ({@code batch, layers,
 * hidden}; the sign bit of {@code hidden} marks adaptation), the potentials as raw fp32 bits, the adaptation variables
 * likewise when the model has an adaptive threshold, then per population a {@link SpikeBlockCodec} block: the
 * spike count and the ids as uint16 when {@code hidden <= 65536}, else int32, or a bitmap when that is smaller
 * (above about 6% activity for uint16 ids; the count implies the layout). Records are bounded by {@link #maxEncodedBytes()} whatever the activity, because the bitmap caps
 * every spike block at {@code ceil(hidden / 8)} bytes. Byte order is the buffer's.
 */
public final class LifStateCodec implements StateCodec<LifState> {
    private static final int HEADER = 12;

    private final int batch;
    private final int layers;
    private final int hidden;
    private final boolean adaptive;
    private final SpikeBlockCodec spikes;

    /** Codec for states without adaptation. */
    public LifStateCodec(final int batch, final int layers, final int hidden) {
        this(batch, layers, hidden, false);
    }

    public LifStateCodec(final int batch, final int layers, final int hidden, final boolean adaptive) {
        this.batch = batch;
        this.layers = layers;
        this.hidden = hidden;
        this.adaptive = adaptive;
        this.spikes = new SpikeBlockCodec(hidden);
    }

    private long denseBytes() {
        return (adaptive ? 8L : 4L) * batch * layers * hidden;
    }

    @Override
    public int maxEncodedBytes() {
        final long pops = (long) batch * layers;
        return Math.toIntExact(HEADER + denseBytes() + pops * spikes.maxBlockBytes());
    }

    /** Bytes {@link #encode} writes for {@code state}. */
    public int encodedBytes(final LifState state) {
        long bytes = HEADER + denseBytes();
        for (final int[] s : state.rawSpikes()) {
            bytes += spikes.blockBytes(s.length);
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
            spikes.encode(ids, ids.length, out);
        }
        return out.position() - start;
    }

    /**
     * Decodes a record that may be damaged (from a snapshot rather than this process's own checkpoint store):
     * exactly {@code in.remaining()} bytes, the shape of this codec, valid spike blocks. Anything else is an
     * {@link InvalidStateException} saying what is wrong. Potentials are not checked here: a running learner can
     * carry an infinite one (an input that saturates a neuron without a gradient), see {@link LifState#isFinite()}.
     */
    public LifState decodeUntrusted(final ByteBuffer in) throws InvalidStateException {
        final LifState state;
        try {
            state = decode(in);
        } catch (final IllegalArgumentException | BufferUnderflowException e) {
            throw new InvalidStateException("carried LIF state: " + (e.getMessage() == null ? "record ends early"
                    : e.getMessage()), e);
        }
        if (in.hasRemaining()) {
            throw new InvalidStateException("carried LIF state: " + in.remaining() + " bytes after the record");
        }
        return state;
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
        final int[][] ids = new int[batch * layers][];
        for (int p = 0; p < ids.length; p++) {
            ids[p] = spikes.decode(in);
        }
        return new LifState(batch, layers, hidden, v, a, ids);
    }
}
