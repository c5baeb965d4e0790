package io.spillway.app.trainer;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a trainer loop has done so far and whether it should go on: written by the loop's thread, read (and asked to
 * stop) from any thread. Both loops keep theirs here, so {@link Trainer}'s figures mean the same for both.
 */
public final class TrainerProgress {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerProgress.class);
    private final AtomicLong eventsTrained = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private volatile long eventsBefore;
    private volatile long position;
    private volatile int pendingEvents;
    private volatile boolean stopping;
    private volatile Throwable failure;

    TrainerProgress(final long eventsBefore, final long position) {
        this.eventsBefore = eventsBefore;
        this.position = position;
    }

    /** Events trained by this loop (since this process started it). */
    public long eventsTrained() {
        return eventsTrained.get();
    }

    /** Events in the model over all runs that trained it, as far as this loop knows. */
    public long eventsTrainedTotal() {
        return eventsBefore + eventsTrained.get();
    }

    /** Training steps done so far by this loop. */
    public long steps() {
        return steps.get();
    }

    /** Events read from the chunk log but not trained yet. */
    public long eventsPending() {
        return pendingEvents;
    }

    /** Chunk-log entries the loop is through (see {@link Trainer#position()}). */
    public long position() {
        return position;
    }

    /** Why the loop died, if it did. */
    public Throwable failure() {
        return failure;
    }

    /** Whether the loop was asked to stop. */
    public boolean stopping() {
        return stopping;
    }

    void stop() {
        stopping = true;
    }

    /** A step of {@code events} events was trained (and, in split training, committed). */
    void stepTrained(final int events) {
        eventsTrained.addAndGet(events);
        steps.incrementAndGet();
    }

    /** The loop continues from a model that holds {@code total} events, this loop's included. */
    void modelHolds(final long total) {
        eventsBefore = total - eventsTrained.get();
    }

    void pendingEvents(final int events) {
        pendingEvents = events;
    }

    void position(final long entries) {
        position = entries;
    }

    /** The loop died of {@code why}: logged here, and kept for the health check. */
    void failed(final Throwable why) {
        failure = why;
        LOG.error("Trainer stopped: {}", why.toString(), why);
    }
}
