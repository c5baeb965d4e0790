package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The records of the internal chunk topic, the durable hand-off from the topology to the trainer: a
 * <em>chunk</em> (key = entity id; value = its events with their event times and input offsets) or a
 * <em>barrier</em> (null key), which the topology writes after a max-wait flush so that the trainer trains
 * the batch it has open instead of waiting for it to fill. The trainer forms its batches from this log
 * alone (count-based, closed by barriers), so replaying the log from an offset reproduces the same steps.
 * Big-endian, with a format byte.
 */
public final class ChunkRecords {
    private static final byte FORMAT = 1;
    private static final byte CHUNK = 1;
    private static final byte BARRIER = 2;

    private ChunkRecords() {
    }

    public static byte[] key(final TimedChunk chunk) {
        return chunk.key().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] encode(final TimedChunk c) {
        int size = 1 + 1 + 8 + 4 + 4;
        for (final SparseEvent e : c.chunk().events()) {
            size += 8 + 8 + 4 + 4 + 4 + 8 * e.featureIndices().length;
        }
        final ByteBuffer b = ByteBuffer.allocate(size).put(FORMAT).put(CHUNK).putLong(c.previousTimestampMs())
                .putInt(c.sourcePartition()).putInt(c.size());
        for (int i = 0; i < c.size(); i++) {
            final SparseEvent e = c.chunk().events().get(i);
            final int n = e.featureIndices().length;
            b.putLong(c.timestampsMs()[i]).putLong(c.sourceOffsets()[i]).putInt(e.eventType()).putInt(e.label()).putInt(n);
            for (int j = 0; j < n; j++) {
                b.putInt(e.featureIndices()[j]).putFloat(e.featureValues()[j]);
            }
        }
        return b.array();
    }

    /** A barrier of the stream task reading input partition {@code sourcePartition}. */
    public static byte[] barrier(final int sourcePartition) {
        return ByteBuffer.allocate(6).put(FORMAT).put(BARRIER).putInt(sourcePartition).array();
    }

    /**
     * Input partition whose task wrote the record: chunk-log partitions follow input partitions (modulo their
     * count), so that in split training one trainer sees a key's chunks in order. 0 for barriers of the first format.
     */
    public static int sourcePartition(final byte[] value) {
        checkFormat(value);
        if (value[1] == BARRIER) {
            return value.length >= 6 ? ByteBuffer.wrap(value, 2, 4).getInt() : 0;
        }
        return ByteBuffer.wrap(value, 10, 4).getInt();
    }

    /** Whether the record is a barrier. */
    public static boolean isBarrier(final byte[] value) {
        checkFormat(value);
        return value[1] == BARRIER;
    }

    /** The chunk a chunk record holds. */
    public static TimedChunk decode(final byte[] key, final byte[] value) {
        checkFormat(value);
        if (value[1] != CHUNK) {
            throw new IllegalArgumentException("not a chunk record: kind " + value[1]);
        }
        final ByteBuffer b = ByteBuffer.wrap(value, 2, value.length - 2);
        final long previous = b.getLong();
        final int partition = b.getInt();
        final int size = b.getInt();
        final long[] timestamps = new long[size];
        final long[] offsets = new long[size];
        final List<SparseEvent> events = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            timestamps[i] = b.getLong();
            offsets[i] = b.getLong();
            final int type = b.getInt();
            final int label = b.getInt();
            final int n = b.getInt();
            final int[] idx = new int[n];
            final float[] val = new float[n];
            for (int j = 0; j < n; j++) {
                idx[j] = b.getInt();
                val[j] = b.getFloat();
            }
            events.add(new SparseEvent(type, idx, val, label));
        }
        return new TimedChunk(new SequenceChunk(new String(key, StandardCharsets.UTF_8), events), timestamps, previous,
                partition, offsets);
    }

    private static void checkFormat(final byte[] value) {
        if (value == null || value.length < 2 || value[0] != FORMAT) {
            throw new IllegalArgumentException("not a chunk-topic record of format " + FORMAT);
        }
    }
}
