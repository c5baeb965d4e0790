package io.spillway.engine.mixture;

import java.util.Arrays;

/**
 * Counts keyed by non-zero longs: an open-addressing table with linear probing (no boxing, about 12 bytes a
 * slot), grown at 60% load. Zero is the empty slot, so zero is not a valid key. A key whose count went back to
 * zero keeps its slot (and its place in {@link #size}) until it is {@link #remove}d. Not thread-safe.
 */
final class LongIntCounts {
    private static final double MAX_LOAD = 0.6;
    private long[] keys;
    private int[] counts;
    private int shift;
    private int size;

    LongIntCounts() {
        allocate(1 << 12);
    }

    /** The count of {@code key}, 0 where it was never incremented. */
    int get(final long key) {
        final int i = find(key);
        return i < 0 ? 0 : counts[i];
    }

    /** Whether {@code key} has a slot (a count, or had one). */
    boolean contains(final long key) {
        return find(key) >= 0;
    }

    /** Adds {@code delta} to the count of {@code key}, giving it a slot if it has none; returns the new count. */
    int add(final long key, final int delta) {
        if (key == 0) {
            throw new IllegalArgumentException("0 is the empty slot, not a key");
        }
        if (size + 1 > MAX_LOAD * keys.length) {
            grow();
        }
        final int mask = keys.length - 1;
        int i = slot(key);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            keys[i] = key;
            size++;
        }
        counts[i] += delta;
        return counts[i];
    }

    /**
     * Takes {@code key}'s slot away (backward-shift deletion: the keys after it in its probe run move up, so no
     * chain breaks). Removing the keys added since some moment, newest first, gives back the table of that moment.
     */
    void remove(final long key) {
        int i = find(key);
        if (i < 0) {
            return;
        }
        final int mask = keys.length - 1;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            final int home = slot(keys[j]);
            // the key at j stays unless its home lies cyclically outside (i, j]
            final boolean stays = i < j ? home > i && home <= j : home > i || home <= j;
            if (!stays) {
                keys[i] = keys[j];
                counts[i] = counts[j];
                i = j;
            }
        }
        keys[i] = 0;
        counts[i] = 0;
        size--;
    }

    /** Keys with a slot. */
    int size() {
        return size;
    }

    /** Every key with a slot, ascending (an order that does not depend on how the table was filled). */
    long[] sortedKeys() {
        final long[] out = new long[size];
        int n = 0;
        for (final long k : keys) {
            if (k != 0) {
                out[n++] = k;
            }
        }
        Arrays.sort(out);
        return out;
    }

    /** Forgets every key (the table keeps its size). */
    void clear() {
        java.util.Arrays.fill(keys, 0L);
        java.util.Arrays.fill(counts, 0);
        size = 0;
    }

    /** Heap bytes of the table. */
    long bytes() {
        return 12L * keys.length;
    }

    private int find(final long key) {
        final long[] k = keys;
        final int mask = k.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            if (k[i] == key) {
                return i;
            }
            if (k[i] == 0) {
                return -1;
            }
        }
    }

    private int slot(final long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift); // Fibonacci hashing: the top bits of the product
    }

    private void grow() {
        final long[] oldKeys = keys;
        final int[] oldCounts = counts;
        allocate(oldKeys.length * 2);
        final int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != 0) {
                int i = slot(oldKeys[j]);
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                counts[i] = oldCounts[j];
            }
        }
    }

    private void allocate(final int capacity) {
        keys = new long[capacity];
        counts = new int[capacity];
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }
}
