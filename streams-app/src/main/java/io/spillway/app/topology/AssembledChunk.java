package io.spillway.app.topology;

import io.spillway.engine.SequenceChunk;
import java.util.Objects;

/**
 * A chunk of one key's consecutive valid events, handed from the topology to the trainer.
 *
 * @param chunk the events for the learner; never null
 * @param timestampsMs event time of each event of the chunk, same order; owned by this record
 * @param previousTimestampMs event time of the key's event just before this chunk, or -1 for the key's first chunk
 */
public record AssembledChunk(SequenceChunk chunk, long[] timestampsMs, long previousTimestampMs) {

    public AssembledChunk {
        Objects.requireNonNull(chunk, "chunk");
        Objects.requireNonNull(timestampsMs, "timestampsMs");
        if (timestampsMs.length != chunk.events().size()) {
            throw new IllegalArgumentException("one timestamp per event expected: " + timestampsMs.length
                    + " vs " + chunk.events().size());
        }
    }

    /** The entity id. */
    public String key() {
        return chunk.key();
    }

    /** Number of events. */
    public int size() {
        return timestampsMs.length;
    }
}
