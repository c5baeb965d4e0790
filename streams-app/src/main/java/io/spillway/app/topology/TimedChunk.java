package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import java.util.Objects;

/**
 * A chunk of one key's consecutive events handed from the topology to the trainer, with the event
 * timestamps the learner does not need but the published predictions do.
 *
 * @param chunk the events, in order
 * @param timestampsMs event time of each event, same order
 * @param previousTimestampMs event time of the key's event just before this chunk (the one the first
 *        prediction of the chunk saw), or -1 for the key's first chunk
 */
public record TimedChunk(SequenceChunk chunk, long[] timestampsMs, long previousTimestampMs) {
    /** A chunk with no known predecessor. */
    public TimedChunk(final SequenceChunk chunk, final long[] timestampsMs) {
        this(chunk, timestampsMs, -1);
    }

    public TimedChunk {
        Objects.requireNonNull(chunk, "chunk");
        Objects.requireNonNull(timestampsMs, "timestampsMs");
        if (timestampsMs.length != chunk.events().size()) {
            throw new IllegalArgumentException(timestampsMs.length + " timestamps for " + chunk.events().size() + " events");
        }
    }

    public String key() {
        return chunk.key();
    }

    public int size() {
        return timestampsMs.length;
    }
}
