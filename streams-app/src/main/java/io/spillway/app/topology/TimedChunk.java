package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import java.util.Objects;

/**
 * A chunk of one key's consecutive events handed from the topology to the trainer, with the event
 * timestamps the learner does not need but the published predictions do.
 *
 * @param chunk the events, in order
 * @param timestampsMs event time of each event, same order
 */
public record TimedChunk(SequenceChunk chunk, long[] timestampsMs) {
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
