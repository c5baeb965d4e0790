package io.spillway.app.serving.internals;

import io.spillway.engine.Inference;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per-key recurrent states, bounded: at most {@code maxKeys} keys (the least recently used goes first) and none
 * idle longer than {@code idleTimeout} (checked on every access and by {@link #expire}); "used" is scored: reading a
 * key's state does not keep it. An evicted key starts
 * again from the zero state when it comes back, as it would in the trainer after its own eviction.
 *
 * <p>Threading: thread-safe; every operation is short (states are immutable, scoring happens outside).
 */
public final class KeyStates {
    /**
     * A key's state after its last event.
     *
     * @param context the key's last events as the prediction mixture reads them
     *     ({@link io.spillway.engine.PredictionMixture#EMPTY} without a mixture)
     * @param labelled whether that event carried an explicit label (what the network predicted after it was the
     *     label, not the next event)
     * @param offset offset of that event in the scored topic, or -1 when it came another way
     * @param events events the key has been scored on since it was (re)created here
     */
    public record Entry(Inference.KeyState state, long context, boolean labelled, long offset, long events,
                        long touchedNanos) {
    }

    private final int maxKeys;
    private final long idleNanos;
    private final LongSupplier clock;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(); // least recently scored first
    private long evicted;
    private long bytes;

    /**
     * @param maxKeys at least 1
     * @param idleTimeout zero: no idle eviction
     * @param clock nanoseconds, e.g. {@link System#nanoTime}
     */
    public KeyStates(final int maxKeys, final Duration idleTimeout, final LongSupplier clock) {
        if (maxKeys < 1 || idleTimeout.isNegative()) {
            throw new IllegalArgumentException("max keys must be at least 1 and the idle timeout not negative: "
                    + maxKeys + ", " + idleTimeout);
        }
        this.maxKeys = maxKeys;
        this.idleNanos = idleTimeout.isZero() ? Long.MAX_VALUE : idleTimeout.toNanos();
        this.clock = clock;
    }

    /** The key's entry, or null when it has none or it was idle too long (reading it does not refresh it). */
    public synchronized Entry get(final String key) {
        expire();
        return entries.get(key);
    }

    /** Stores the key's state after {@code events} more events, the last at {@code offset}; no mixture context. */
    public void put(final String key, final Inference.KeyState state, final long offset, final long events) {
        put(key, state, io.spillway.engine.PredictionMixture.EMPTY, false, offset, events);
    }

    /** Stores the key's state and mixture context after {@code events} more events, the last at {@code offset}. */
    public synchronized void put(final String key, final Inference.KeyState state, final long context,
                                 final boolean labelled, final long offset, final long events) {
        final Entry before = entries.remove(key); // re-inserted last: the order is that of the last update
        final long total = (before == null ? 0 : before.events()) + events;
        final Entry after = new Entry(state, context, labelled, offset, total, clock.getAsLong());
        entries.put(key, after);
        bytes += state.bytes() - (before == null ? 0 : before.state().bytes());
        expire();
        while (entries.size() > maxKeys) {
            remove(entries.entrySet().iterator());
        }
    }

    /** Drops the keys idle longer than the timeout; returns how many. */
    public synchronized int expire() {
        if (idleNanos == Long.MAX_VALUE) {
            return 0;
        }
        final long now = clock.getAsLong();
        int n = 0;
        // the access order puts the least recently used first: stop at the first one still fresh
        for (final Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            final Map.Entry<String, Entry> e = it.next();
            if (now - e.getValue().touchedNanos() <= idleNanos) {
                break;
            }
            bytes -= e.getValue().state().bytes();
            it.remove();
            evicted++;
            n++;
        }
        return n;
    }

    private void remove(final Iterator<Map.Entry<String, Entry>> it) {
        final Map.Entry<String, Entry> e = it.next();
        bytes -= e.getValue().state().bytes();
        it.remove();
        evicted++;
    }

    /** Keys evicted so far (for capacity or idleness). */
    public synchronized long evicted() {
        return evicted;
    }

    public synchronized int size() {
        return entries.size();
    }

    /** Heap bytes of the states held. */
    public synchronized long bytes() {
        return bytes;
    }
}
