package io.spillway.engine.model;

import java.nio.ByteBuffer;

/**
 * Lossless encoding of one population's spikes or events (a sorted list of neuron ids), the sparse part of the
 * LIF and EGRU cells' state codecs and so of their checkpoint records and snapshots
 * (docs/spec-double-checkpointing.md §3.2): an int32 count, then the ids as uint16 when the population has at
 * most 65,536 neurons (int32 otherwise), or a bitmap of {@code ceil(N/8)} bytes when that is smaller.
 * The format follows from the count alone, so no format byte is stored: a block is exactly
 * {@link #blockBytes(int)} bytes, {@code 4 + 2k} below the switch (6.25% activity for uint16 ids, 3.125%
 * for int32) and {@code 4 + ceil(N/8)} above it.
 *
 * <p>Immutable and thread-safe.
 */
public final class SpikeBlockCodec {
    /** How the ids of a block are laid out. */
    public enum Format {
        /** Two bytes per spike, unsigned. */
        IDS16,
        /** Four bytes per spike. */
        IDS32,
        /** One bit per neuron, little-endian within each byte. */
        BITMAP
    }

    private final int neurons;
    private final int idBytes;
    private final int bitmapBytes;

    /**
     * @param neurons population size N (> 0)
     */
    public SpikeBlockCodec(final int neurons) {
        if (neurons <= 0) {
            throw new IllegalArgumentException("a population needs at least one neuron: " + neurons);
        }
        this.neurons = neurons;
        this.idBytes = neurons <= 65_536 ? Short.BYTES : Integer.BYTES;
        this.bitmapBytes = (neurons + 7) / 8;
    }

    public int neurons() {
        return neurons;
    }

    /** The layout used for {@code count} spikes: ids while they are no larger than the bitmap. */
    public Format formatFor(final int count) {
        checkCount(count);
        if ((long) idBytes * count > bitmapBytes) {
            return Format.BITMAP;
        }
        return idBytes == Short.BYTES ? Format.IDS16 : Format.IDS32;
    }

    /** Exact size of a block holding {@code count} spikes. */
    public int blockBytes(final int count) {
        return Integer.BYTES + (formatFor(count) == Format.BITMAP ? bitmapBytes : idBytes * count);
    }

    /** Largest block whatever the activity (the bitmap caps it). */
    public int maxBlockBytes() {
        return Integer.BYTES + bitmapBytes;
    }

    /**
     * Writes the first {@code count} entries of {@code ids} at the buffer's position.
     *
     * @param ids strictly increasing neuron ids in {@code [0, N)}; not modified
     * @return bytes written
     * @throws IllegalArgumentException when the ids are out of range, not increasing, or more than N
     */
    public int encode(final int[] ids, final int count, final ByteBuffer out) {
        checkCount(count);
        if (count > ids.length) {
            throw new IllegalArgumentException("count " + count + " exceeds the " + ids.length + " ids given");
        }
        int previous = -1;
        for (int i = 0; i < count; i++) {
            if (ids[i] <= previous || ids[i] >= neurons) {
                throw new IllegalArgumentException("spike ids must be strictly increasing in [0, " + neurons
                        + "): id " + ids[i] + " at position " + i + " after " + previous);
            }
            previous = ids[i];
        }
        final int start = out.position();
        out.putInt(count);
        switch (formatFor(count)) {
            case IDS16 -> {
                for (int i = 0; i < count; i++) {
                    out.putShort((short) ids[i]);
                }
            }
            case IDS32 -> {
                for (int i = 0; i < count; i++) {
                    out.putInt(ids[i]);
                }
            }
            case BITMAP -> {
                final byte[] bits = new byte[bitmapBytes];
                for (int i = 0; i < count; i++) {
                    bits[ids[i] >>> 3] |= (byte) (1 << (ids[i] & 7));
                }
                out.put(bits);
            }
        }
        return out.position() - start;
    }

    /**
     * Reads a block written by {@link #encode} at the buffer's position.
     *
     * @throws IllegalArgumentException when the block is corrupt (count out of range, bitmap disagreeing
     *     with the count, ids not increasing)
     */
    public int[] decode(final ByteBuffer in) {
        final int count = in.getInt();
        if (count < 0 || count > neurons) {
            throw new IllegalArgumentException("corrupt spike block: count " + count + " for " + neurons + " neurons");
        }
        final int[] ids = new int[count];
        switch (formatFor(count)) {
            case IDS16 -> {
                for (int i = 0; i < count; i++) {
                    ids[i] = Short.toUnsignedInt(in.getShort());
                }
            }
            case IDS32 -> {
                for (int i = 0; i < count; i++) {
                    ids[i] = in.getInt();
                }
            }
            case BITMAP -> {
                final byte[] bits = new byte[bitmapBytes];
                in.get(bits);
                int k = 0;
                for (int id = 0; id < neurons; id++) {
                    if ((bits[id >>> 3] & (1 << (id & 7))) != 0) {
                        if (k == count) {
                            throw new IllegalArgumentException("corrupt spike block: bitmap holds more than " + count);
                        }
                        ids[k++] = id;
                    }
                }
                if (k != count) {
                    throw new IllegalArgumentException("corrupt spike block: bitmap holds " + k + " of " + count);
                }
            }
        }
        for (int i = 0; i < count; i++) {
            if (ids[i] >= neurons || i > 0 && ids[i] <= ids[i - 1]) {
                throw new IllegalArgumentException("corrupt spike block: id " + ids[i] + " at position " + i);
            }
        }
        return ids;
    }

    private void checkCount(final int count) {
        if (count < 0 || count > neurons) {
            throw new IllegalArgumentException("spike count " + count + " outside [0, " + neurons + "]");
        }
    }
}
