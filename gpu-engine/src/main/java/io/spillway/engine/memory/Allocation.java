package io.spillway.engine.memory;

/**
 * Receipt for bytes booked with a {@link MemoryAccountant}. Closing it releases the bytes; closing
 * twice is a no-op, so it is safe in try-with-resources and in explicit free paths.
 */
public final class Allocation implements AutoCloseable {
    private final MemoryAccountant owner;
    private final MemoryTier tier;
    private final long bytes;
    private final String purpose;
    private boolean released;

    Allocation(final MemoryAccountant owner, final MemoryTier tier, final long bytes, final String purpose) {
        this.owner = owner;
        this.tier = tier;
        this.bytes = bytes;
        this.purpose = purpose;
    }

    public MemoryTier tier() {
        return tier;
    }

    public long bytes() {
        return bytes;
    }

    public String purpose() {
        return purpose;
    }

    @Override
    public void close() {
        synchronized (owner) {
            if (!released) {
                released = true;
                owner.release(this);
            }
        }
    }
}
