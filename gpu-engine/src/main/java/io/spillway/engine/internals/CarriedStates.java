package io.spillway.engine.internals;

import io.spillway.engine.SparseEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Per-key recurrent state carried from one chunk to the next (truncated BPTT at chunk edges), plus the key's
 * last event, which has not been an input yet because its target (the next event) was unknown.
 *
 * <p>Bounded: at most {@code capacity} keys, least recently trained first out. An evicted key restarts from a
 * zero state and its pending event is forgotten; evictions are counted. Iteration order (least recent
 * first) is deterministic and is kept by snapshots. Not thread-safe.
 */
final class CarriedStates<S> {

    /**
     * State of one key: a batch-1 cell state, the pending last event (null before any event) and the key's last
     * events as the prediction mixture's context model reads them ({@code ContextModel.history}; empty without a
     * mixture).
     */
    record KeyState<S>(S state, SparseEvent pending, long context) {
    }

    private final int capacity;
    private final ToLongFunction<S> stateBytes;
    private final LinkedHashMap<String, KeyState<S>> map;
    private long evictions;
    private long bytes;

    /** @param stateBytes heap bytes of one state */
    CarriedStates(final int capacity, final ToLongFunction<S> stateBytes) {
        this.capacity = capacity;
        this.stateBytes = stateBytes;
        this.map = new LinkedHashMap<>(16, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(final Map.Entry<String, KeyState<S>> eldest) {
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
    KeyState<S> peek(final String key) {
        return map.get(key); // insertion-ordered map: a read does not reorder
    }

    /** Stores the entry as the most recently trained key (moves it to the end). */
    void put(final String key, final KeyState<S> e) {
        final KeyState<S> old = map.remove(key);
        if (old != null) {
            bytes -= bytes(old);
        }
        bytes += bytes(e);
        map.put(key, e);
    }

    /** Replaces the entry of a key present, keeping its place in the eviction order. */
    void replace(final String key, final KeyState<S> e) {
        final KeyState<S> old = map.replace(key, e);
        if (old == null) {
            throw new IllegalArgumentException("no entry for key to replace");
        }
        bytes += bytes(e) - bytes(old);
    }

    private long bytes(final KeyState<S> e) {
        return 8L + stateBytes.applyAsLong(e.state()) + (e.pending() == null ? 0 : 16L + 8L * e.pending().featureIndices().length);
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
    Iterable<Map.Entry<String, KeyState<S>>> entries() {
        return map.entrySet();
    }

    void clear() {
        map.clear();
        bytes = 0;
    }
}
