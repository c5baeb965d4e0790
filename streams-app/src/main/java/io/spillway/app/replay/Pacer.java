package io.spillway.app.replay;

/**
 * Keeps a producer at a target rate: {@link #awaitTurn(long)} sleeps until event {@code i} is due at
 * {@code start + i / rate}, or less than half a millisecond before (at tens of thousands of events a second,
 * a sleep per event would cost more CPU than producing them). A producer that falls behind is not made to
 * sleep (it catches up, never exceeding the average rate since start). Not thread-safe: one producer thread.
 */
public final class Pacer {
    /** An event due sooner than this goes without a sleep. */
    private static final long MIN_SLEEP_NANOS = 500_000;

    private final double eventsPerSecond;
    private long startNanos = Long.MIN_VALUE;

    /** @param eventsPerSecond target rate; 0 or less means unpaced (as fast as possible) */
    public Pacer(final double eventsPerSecond) {
        if (Double.isNaN(eventsPerSecond) || Double.isInfinite(eventsPerSecond)) {
            throw new IllegalArgumentException("rate must be a finite number: " + eventsPerSecond);
        }
        this.eventsPerSecond = eventsPerSecond;
    }

    /**
     * Blocks until event {@code index} (0-based, counted from the first call) is due.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void awaitTurn(final long index) throws InterruptedException {
        if (startNanos == Long.MIN_VALUE) {
            startNanos = System.nanoTime();
        }
        if (eventsPerSecond <= 0) {
            return;
        }
        final long due = startNanos + (long) (index / eventsPerSecond * 1e9);
        final long wait = due - System.nanoTime();
        if (wait > MIN_SLEEP_NANOS) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
