package io.spillway.schemas.registry.internals;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Remembers, for a while and up to a bounded count, schema ids (or GUIDs) the registry said it does not know,
 * so that many records naming one bogus id cost one request. An id may be registered later, so an
 * entry expires after its time to live. Thread-safe.
 *
 * @param <K> the id's type: {@code Integer} for ids, {@code UUID} for GUIDs
 */
final class MissingIdCache<K> {
    private final long ttlNanos;
    private final int capacity;
    private final LongSupplier clock;
    /** Insertion order, so the oldest entry is the eldest. */
    private final LinkedHashMap<K, Long> expiries;

    /**
     * @param ttlNanos how long an entry lives; 0 disables the cache
     * @param capacity the most entries kept; the oldest go first
     * @param clock nanosecond clock (System::nanoTime outside tests)
     */
    MissingIdCache(final long ttlNanos, final int capacity, final LongSupplier clock) {
        this.ttlNanos = ttlNanos;
        this.capacity = capacity;
        this.clock = clock;
        this.expiries = new LinkedHashMap<>(16, 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(final Map.Entry<K, Long> eldest) {
                return size() > MissingIdCache.this.capacity;
            }
        };
    }

    /** @return whether the id was reported unknown less than the time to live ago */
    synchronized boolean isMissing(final K id) {
        final Long expiry = expiries.get(id);
        if (expiry == null) {
            return false;
        }
        if (clock.getAsLong() - expiry >= 0) {
            expiries.remove(id);
            return false;
        }
        return true;
    }

    /** Notes that the registry does not know the id. */
    synchronized void markMissing(final K id) {
        if (ttlNanos <= 0 || capacity <= 0) {
            return;
        }
        expiries.remove(id);
        expiries.put(id, clock.getAsLong() + ttlNanos);
    }

    /** Forgets the id (it was just seen registered). */
    synchronized void forget(final K id) {
        expiries.remove(id);
    }

    /** @return the time to live in seconds, for messages */
    double ttlSeconds() {
        return ttlNanos / 1e9;
    }
}
