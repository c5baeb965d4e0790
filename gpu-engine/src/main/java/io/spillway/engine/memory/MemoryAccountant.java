package io.spillway.engine.memory;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Books every device and off-chip byte the engine allocates, so peak figures are measured rather than
 * estimated. Callers reserve bytes before allocating and release them when freeing; the returned
 * {@link Allocation} is the receipt.
 *
 * <p>Thread-safe: methods are synchronized (allocations are coarse: buffers, slabs, records).
 */
public final class MemoryAccountant {

    /** Unlimited budget. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    private final Map<MemoryTier, long[]> live = new EnumMap<>(MemoryTier.class);
    private final Map<MemoryTier, long[]> peak = new EnumMap<>(MemoryTier.class);
    private final Map<MemoryTier, Long> budget = new EnumMap<>(MemoryTier.class);
    private long transferredBytes;
    private long transfers;

    public MemoryAccountant() {
        this(UNLIMITED, UNLIMITED);
    }

    /**
     * @param deviceBudgetBytes largest number of device bytes live at once
     * @param offChipBudgetBytes largest number of off-chip bytes live at once
     */
    public MemoryAccountant(final long deviceBudgetBytes, final long offChipBudgetBytes) {
        for (final MemoryTier t : MemoryTier.values()) {
            live.put(t, new long[1]);
            peak.put(t, new long[1]);
        }
        budget.put(MemoryTier.DEVICE, requirePositive(deviceBudgetBytes));
        budget.put(MemoryTier.OFF_CHIP, requirePositive(offChipBudgetBytes));
    }

    private static long requirePositive(final long v) {
        if (v <= 0) {
            throw new IllegalArgumentException("budget must be positive: " + v);
        }
        return v;
    }

    /**
     * Reserves {@code bytes} in {@code tier}.
     *
     * @throws MemoryBudgetExceededException if the tier's budget would be exceeded; nothing is booked then
     */
    public synchronized Allocation allocate(final MemoryTier tier, final long bytes, final String purpose) {
        Objects.requireNonNull(tier, "tier");
        if (bytes < 0) {
            throw new IllegalArgumentException("negative allocation: " + bytes);
        }
        final long[] l = live.get(tier);
        final long limit = budget.get(tier);
        if (l[0] + bytes > limit || l[0] + bytes < 0) {
            throw new MemoryBudgetExceededException(String.format(
                    "%s budget exceeded allocating %,d bytes for %s: %,d live of %,d allowed",
                    tier, bytes, purpose, l[0], limit));
        }
        l[0] += bytes;
        final long[] p = peak.get(tier);
        p[0] = Math.max(p[0], l[0]);
        return new Allocation(this, tier, bytes, purpose);
    }

    synchronized void release(final Allocation a) {
        live.get(a.tier())[0] -= a.bytes();
    }

    /** Records a copy between tiers (either direction). */
    public synchronized void recordTransfer(final long bytes) {
        transferredBytes += bytes;
        transfers++;
    }

    public synchronized long liveBytes(final MemoryTier tier) {
        return live.get(tier)[0];
    }

    public synchronized long peakBytes(final MemoryTier tier) {
        return peak.get(tier)[0];
    }

    public synchronized long budgetBytes(final MemoryTier tier) {
        return budget.get(tier);
    }

    public synchronized long transferredBytes() {
        return transferredBytes;
    }

    public synchronized long transfers() {
        return transfers;
    }

    /** Starts a new peak measurement from the bytes live now. */
    public synchronized void resetPeaks() {
        for (final MemoryTier t : MemoryTier.values()) {
            peak.get(t)[0] = live.get(t)[0];
        }
    }
}
