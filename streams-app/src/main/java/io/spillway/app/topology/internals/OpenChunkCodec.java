package io.spillway.app.topology.internals;

import io.spillway.engine.SparseEvent;
import java.nio.ByteBuffer;

/**
 * Binary forms of what the sequence assembler keeps in its state stores: one {@link Meta} per key and one entry
 * per buffered event. Big-endian, versioned by a leading byte.
 */
public final class OpenChunkCodec {
    private static final byte VERSION = 1;

    private OpenChunkCodec() {
    }

    /**
     * Per-key bookkeeping.
     *
     * @param lastTimestampMs event time of the key's latest accepted event, -1 before the first
     * @param count events in the open chunk
     * @param openedAtMs wall-clock time the open chunk got its first event (meaningless when count is 0)
     * @param previousTimestampMs event time of the event before the open chunk, -1 if none
     */
    public record Meta(long lastTimestampMs, int count, long openedAtMs, long previousTimestampMs) {
        /** A key never seen. */
        public static final Meta EMPTY = new Meta(-1, 0, 0, -1);
    }

    public static byte[] encodeMeta(final Meta meta) {
        return ByteBuffer.allocate(1 + 8 + 4 + 8 + 8).put(VERSION).putLong(meta.lastTimestampMs()).putInt(meta.count())
                .putLong(meta.openedAtMs()).putLong(meta.previousTimestampMs()).array();
    }

    public static Meta decodeMeta(final byte[] bytes) {
        final ByteBuffer b = ByteBuffer.wrap(bytes);
        checkVersion(b.get());
        return new Meta(b.getLong(), b.getInt(), b.getLong(), b.getLong());
    }

    /**
     * A buffered event with its event time.
     *
     * @param timestampMs event time
     * @param event the event
     */
    public record Buffered(long timestampMs, SparseEvent event) {
    }

    public static byte[] encodeEvent(final long timestampMs, final SparseEvent e) {
        final int n = e.featureIndices().length;
        final ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + 4 + 4 + n * 8).put(VERSION).putLong(timestampMs)
                .putInt(e.eventType()).putInt(e.label()).putInt(n);
        for (int i = 0; i < n; i++) {
            b.putInt(e.featureIndices()[i]).putFloat(e.featureValues()[i]);
        }
        return b.array();
    }

    public static Buffered decodeEvent(final byte[] bytes) {
        final ByteBuffer b = ByteBuffer.wrap(bytes);
        checkVersion(b.get());
        final long ts = b.getLong();
        final int type = b.getInt();
        final int label = b.getInt();
        final int n = b.getInt();
        final int[] idx = new int[n];
        final float[] val = new float[n];
        for (int i = 0; i < n; i++) {
            idx[i] = b.getInt();
            val[i] = b.getFloat();
        }
        return new Buffered(ts, new SparseEvent(type, idx, val, label));
    }

    /** Store key of the i-th buffered event of {@code entity}: sorts by position in byte order. */
    public static String eventKey(final String entity, final int position) {
        return eventPrefix(entity) + String.format("%010d", position);
    }

    /** Prefix of all buffered-event keys of {@code entity}. */
    public static String eventPrefix(final String entity) {
        return entity + '\u0000';
    }

    private static void checkVersion(final byte v) {
        if (v != VERSION) {
            throw new IllegalStateException("unknown open-chunk state format version " + v);
        }
    }
}
