package io.spillway.app.replay.bench;

/**
 * Counts keyed by non-zero longs: an open-addressing table with linear probing (no boxing, about 12 bytes a
 * slot), grown at 60% load. Zero is the empty slot, so zero is not a valid key. Not thread-safe.
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
        final long[] k = keys;
        final int mask = k.length - 1;
        for (int i = slot(key); ; i = (i + 1) & mask) {
            if (k[i] == key) {
                return counts[i];
            }
            if (k[i] == 0) {
                return 0;
            }
        }
    }

    /** Adds one to the count of {@code key}; returns the new count. */
    int increment(final long key) {
        if (key == 0) {
            throw new IllegalArgumentException("0 is the empty slot, not a key");
        }
        final int mask = keys.length - 1;
        int i = slot(key);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            if (size + 1 > MAX_LOAD * keys.length) {
                grow();
                return increment(key);
            }
            keys[i] = key;
            size++;
        }
        return ++counts[i];
    }

    /** Keys with a count. */
    int size() {
        return size;
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
