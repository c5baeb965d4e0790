package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A key's open chunk as kept in the state store (and its changelog): the events received since the last
 * hand-off, the last event time seen (to reject out-of-order events) and when the chunk was opened (to
 * flush slow keys). Mutable; serialized with {@link #toBytes()}.
 */
final class OpenChunk {
    private static final int FORMAT = 1;

    private long lastTimestampMs = -1;
    private long openedAtMs = -1;
    private final List<SparseEvent> events = new ArrayList<>();
    private final List<Long> timestamps = new ArrayList<>();

    long lastTimestampMs() {
        return lastTimestampMs;
    }

    long openedAtMs() {
        return openedAtMs;
    }

    int size() {
        return events.size();
    }

    void add(final SparseEvent event, final long timestampMs, final long nowMs) {
        if (events.isEmpty()) {
            openedAtMs = nowMs;
        }
        events.add(event);
        timestamps.add(timestampMs);
        lastTimestampMs = timestampMs;
    }

    /** Takes the events out as a chunk and leaves this empty (the last timestamp is kept). */
    TimedChunk drain(final String key) {
        final long[] ts = timestamps.stream().mapToLong(Long::longValue).toArray();
        final TimedChunk chunk = new TimedChunk(new SequenceChunk(key, List.copyOf(events)), ts);
        events.clear();
        timestamps.clear();
        openedAtMs = -1;
        return chunk;
    }

    byte[] toBytes() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + events.size() * 24);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(lastTimestampMs);
            out.writeLong(openedAtMs);
            out.writeInt(events.size());
            for (int i = 0; i < events.size(); i++) {
                final SparseEvent e = events.get(i);
                out.writeLong(timestamps.get(i));
                out.writeInt(e.eventType());
                out.writeInt(e.label());
                out.writeInt(e.featureIndices().length);
                for (int j = 0; j < e.featureIndices().length; j++) {
                    out.writeInt(e.featureIndices()[j]);
                    out.writeFloat(e.featureValues()[j]);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static OpenChunk fromBytes(final byte[] data) {
        final OpenChunk chunk = new OpenChunk();
        if (data == null) {
            return chunk;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            final int format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalStateException("open chunk store format " + format + " is not " + FORMAT);
            }
            chunk.lastTimestampMs = in.readLong();
            chunk.openedAtMs = in.readLong();
            final int n = in.readInt();
            for (int i = 0; i < n; i++) {
                final long ts = in.readLong();
                final int type = in.readInt();
                final int label = in.readInt();
                final int nf = in.readInt();
                final int[] idx = new int[nf];
                final float[] val = new float[nf];
                for (int j = 0; j < nf; j++) {
                    idx[j] = in.readInt();
                    val[j] = in.readFloat();
                }
                chunk.events.add(new SparseEvent(type, idx, val, label));
                chunk.timestamps.add(ts);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return chunk;
    }
}
