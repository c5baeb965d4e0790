package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import java.util.Arrays;
import java.util.Objects;

/**
 * A chunk of one key's consecutive events handed from the topology to the trainer, with the event
 * timestamps the learner does not need but the published predictions do, and where each event came from.
 *
 * @param chunk the events, in order
 * @param timestampsMs event time of each event, same order
 * @param previousTimestampMs event time of the key's event just before this chunk (the one the first
 *        prediction of the chunk saw), or -1 for the key's first chunk
 * @param sourcePartition input partition of the events, -1 when unknown
 * @param sourceOffsets input offset of each event, same order (-1 when unknown)
 */
public record TimedChunk(SequenceChunk chunk, long[] timestampsMs, long previousTimestampMs, int sourcePartition,
                         long[] sourceOffsets) {
    /** A chunk with no known predecessor or source. */
    public TimedChunk(final SequenceChunk chunk, final long[] timestampsMs) {
        this(chunk, timestampsMs, -1);
    }

    /** A chunk with no known source. */
    public TimedChunk(final SequenceChunk chunk, final long[] timestampsMs, final long previousTimestampMs) {
        this(chunk, timestampsMs, previousTimestampMs, -1, unknown(timestampsMs.length));
    }

    public TimedChunk {
        Objects.requireNonNull(chunk, "chunk");
        Objects.requireNonNull(timestampsMs, "timestampsMs");
        Objects.requireNonNull(sourceOffsets, "sourceOffsets");
        if (timestampsMs.length != chunk.events().size() || sourceOffsets.length != timestampsMs.length) {
            throw new IllegalArgumentException(timestampsMs.length + " timestamps and " + sourceOffsets.length
                    + " offsets for " + chunk.events().size() + " events");
        }
    }

    private static long[] unknown(final int n) {
        final long[] offsets = new long[n];
        Arrays.fill(offsets, -1);
        return offsets;
    }

    public String key() {
        return chunk.key();
    }

    public int size() {
        return timestampsMs.length;
    }
}
