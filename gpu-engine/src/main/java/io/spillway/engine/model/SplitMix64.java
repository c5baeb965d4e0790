package io.spillway.engine.model;

/** SplitMix64 generator with an exposed 64-bit state, so its position can be saved and restored. */
public final class SplitMix64 {
    private long state;

    public SplitMix64(final long seed) {
        this.state = seed;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    public long state() {
        return state;
    }

    public void state(final long s) {
        state = s;
    }
}
