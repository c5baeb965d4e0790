package io.spillway.app.topology;

import io.spillway.engine.SparseEvent;
import java.nio.ByteBuffer;

/**
 * How a key's open chunk is laid out in the state stores (and their changelogs), so that adding an event
 * costs the same whatever the chunk length T: one entry per buffered event, under {@link #eventKey}, in one
 * store, and a small per-key {@link Meta} record (the last event time, to reject out-of-order events) in
 * another, written when the key's chunk is handed over (the processor keeps the open chunks in memory and
 * restores them from these). Nothing is rewritten per event, and no changelog record grows with T (a
 * single-blob chunk of 10^5 events would exceed Kafka's record limit). Big-endian, with a format byte.
 */
final class OpenChunk {
    private static final byte FORMAT = 3;
    /** Metas since the last record's time was added (for idle-key retention); format 3 metas are still read. */
    private static final byte META_FORMAT = 4;

    private OpenChunk() {
    }

    /**
     * Per-key bookkeeping, as stored.
     *
     * @param lastTimestampMs event time of the key's latest handed-over event, -1 before the first
     * @param openedAtMs -1 (written per event by earlier versions: the open chunk's wall-clock opening time)
     * @param size 0 (earlier versions: events in the open chunk)
     * @param previousTimestampMs equal to {@code lastTimestampMs} (earlier versions: the key's event time before
     *        the open chunk, -1 if none)
     * @param lastRecordMs record timestamp (the input's clock) at the key's latest hand-off, -1 when unknown (metas
     *        written by earlier versions)
     */
    record Meta(long lastTimestampMs, long openedAtMs, int size, long previousTimestampMs, long lastRecordMs) {
        static final Meta EMPTY = new Meta(-1, -1, 0, -1, -1);

        /** The meta written at a hand-off: the key's last event time, and the input's clock then. */
        static Meta handedOver(final long lastTimestampMs, final long lastRecordMs) {
            return new Meta(lastTimestampMs, -1, 0, lastTimestampMs, lastRecordMs);
        }
    }

    static byte[] encodeMeta(final Meta meta) {
        if (meta.size() != 0 || meta.openedAtMs() != -1 || meta.previousTimestampMs() != meta.lastTimestampMs()) {
            throw new IllegalArgumentException("only hand-off metas are written: " + meta);
        }
        return ByteBuffer.allocate(1 + 8 + 8).put(META_FORMAT).putLong(meta.lastTimestampMs())
                .putLong(meta.lastRecordMs()).array();
    }

    /** @param data stored bytes, or null for a key never seen */
    static Meta decodeMeta(final byte[] data) {
        if (data == null) {
            return Meta.EMPTY;
        }
        final ByteBuffer b = ByteBuffer.wrap(data);
        final byte format = b.get();
        if (format == META_FORMAT) {
            return Meta.handedOver(b.getLong(), b.getLong());
        }
        checkFormat(format);
        return new Meta(b.getLong(), b.getLong(), b.getInt(), b.getLong(), -1);
    }

    /**
     * A buffered event, its event time and its input offset.
     *
     * @param timestampMs event time
     * @param sourceOffset offset of the input record
     * @param event the event
     */
    record Buffered(long timestampMs, long sourceOffset, SparseEvent event) {
    }

    static byte[] encodeEvent(final Buffered buffered) {
        return encodeEvent(buffered.timestampMs(), buffered.sourceOffset(), buffered.event());
    }

    static byte[] encodeEvent(final long timestampMs, final long sourceOffset, final SparseEvent e) {
        final int n = e.featureIndices().length;
        final ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 4 + 4 + 4 + 8 * n).put(FORMAT).putLong(timestampMs)
                .putLong(sourceOffset).putInt(e.eventType()).putInt(e.label()).putInt(n);
        for (int i = 0; i < n; i++) {
            b.putInt(e.featureIndices()[i]).putFloat(e.featureValues()[i]);
        }
        return b.array();
    }

    static Buffered decodeEvent(final byte[] data) {
        final ByteBuffer b = ByteBuffer.wrap(data);
        checkFormat(b.get());
        final long ts = b.getLong();
        final long offset = b.getLong();
        final int type = b.getInt();
        final int label = b.getInt();
        final int n = b.getInt();
        final int[] idx = new int[n];
        final float[] val = new float[n];
        for (int i = 0; i < n; i++) {
            idx[i] = b.getInt();
            val[i] = b.getFloat();
        }
        return new Buffered(ts, offset, new SparseEvent(type, idx, val, label));
    }

    /**
     * Store key of the event at {@code position} of {@code key}'s open chunk. Keys are UTF-8 without NUL (the
     * processor rejects others), so the NUL separator keeps each key's events a contiguous, position-ordered
     * range under {@link #eventPrefix}.
     */
    static String eventKey(final String key, final int position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        // the position zero-padded to 10 digits (as %010d, without a Formatter per event)
        final String digits = Integer.toString(position);
        return new StringBuilder(key.length() + 11).append(key).append('\u0000')
                .repeat('0', 10 - digits.length()).append(digits).toString();
    }

    static String eventPrefix(final String key) {
        return key + '\u0000';
    }

    private static void checkFormat(final byte format) {
        if (format != FORMAT) {
            throw new IllegalStateException("open chunk store format " + format + " is not " + FORMAT);
        }
    }
}
