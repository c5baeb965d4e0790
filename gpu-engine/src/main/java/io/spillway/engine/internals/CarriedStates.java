package io.spillway.engine.internals;

import io.spillway.engine.SparseEvent;
import io.spillway.engine.model.LifState;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-key recurrent state carried from one chunk to the next (truncated BPTT at chunk edges), plus the key's
 * last event, which has not been an input yet because its target (the next event) was unknown.
 *
 * <p>Bounded: at most {@code capacity} keys, least recently trained first out. An evicted key restarts from a
 * zero state and its pending event is forgotten; evictions are counted. Iteration order (least recent
 * first) is deterministic and is kept by snapshots. Not thread-safe.
 */
final class CarriedStates {

    /** State of one key: a batch-1 {@link LifState} and the pending last event (null before any event). */
    record KeyState(LifState state, SparseEvent pending) {
    }

    private final int capacity;
    private final LinkedHashMap<String, KeyState> map;
    private long evictions;
    private long bytes;

    CarriedStates(final int capacity) {
        this.capacity = capacity;
        this.map = new LinkedHashMap<>(16, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(final Map.Entry<String, KeyState> eldest) {
                if (size() > CarriedStates.this.capacity) {
                    evictions++;
                    bytes -= bytes(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    /** Entry of {@code key} without changing the eviction order, or null. */
    KeyState peek(final String key) {
        return map.get(key); // insertion-ordered map: a read does not reorder
    }

    /** Stores the entry as the most recently trained key (moves it to the end). */
    void put(final String key, final KeyState e) {
        final KeyState old = map.remove(key);
        if (old != null) {
            bytes -= bytes(old);
        }
        bytes += bytes(e);
        map.put(key, e);
    }

    private static long bytes(final KeyState e) {
        return e.state().bytes() + (e.pending() == null ? 0 : 16L + 8L * e.pending().featureIndices().length);
    }

    int size() {
        return map.size();
    }

    long evictions() {
        return evictions;
    }

    void evictions(final long n) {
        evictions = n;
    }

    /** Heap bytes of the carried states and pending events. */
    long bytes() {
        return bytes;
    }

    /** Entries, least recently trained first; do not modify. */
    Iterable<Map.Entry<String, KeyState>> entries() {
        return map.entrySet();
    }

    void clear() {
        map.clear();
        bytes = 0;
    }
}
