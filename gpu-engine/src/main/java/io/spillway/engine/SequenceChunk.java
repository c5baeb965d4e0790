package io.spillway.engine;

import java.util.List;
import java.util.Objects;

/**
 * Consecutive events of one key (entity), in stream order. The learner carries the recurrent state
 * and the last event of each key from one chunk to the next (truncated BPTT at chunk edges), so a
 * key's unbounded stream is trained as a sequence of chunks.
 *
 * @param key entity id; never null
 * @param events the events, oldest first; never null, not empty
 */
public record SequenceChunk(String key, List<SparseEvent> events) {
    public SequenceChunk {
        Objects.requireNonNull(key, "key");
        events = List.copyOf(Objects.requireNonNull(events, "events"));
        if (events.isEmpty()) {
            throw new IllegalArgumentException("a chunk needs at least one event (key " + key + ")");
        }
    }
}
