package io.spillway.app.topology;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Counts that reconcile the pipeline: every input record is either dead-lettered or becomes an event
 * that is buffered in an open chunk, queued for the trainer, or trained. Thread-safe.
 */
public final class PipelineCounters {
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final Map<String, AtomicLong> byReason = new ConcurrentHashMap<>();
    private final Consumer<String> deadLetterListener;

    /** @param deadLetterListener told the reason of each dead-lettered record (e.g. a metrics counter) */
    public PipelineCounters(final Consumer<String> deadLetterListener) {
        this.deadLetterListener = deadLetterListener;
    }

    public PipelineCounters() {
        this(reason -> { });
    }

    void countConsumed() {
        consumed.incrementAndGet();
    }

    void countAccepted() {
        accepted.incrementAndGet();
    }

    void countDeadLettered(final String reason) {
        deadLettered.incrementAndGet();
        byReason.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
        deadLetterListener.accept(reason);
    }

    /** Input records read from the events topic. */
    public long consumed() {
        return consumed.get();
    }

    /** Valid events accepted into a chunk. */
    public long accepted() {
        return accepted.get();
    }

    /** Records sent to the dead-letter topic. */
    public long deadLettered() {
        return deadLettered.get();
    }

    public Map<String, Long> deadLetteredByReason() {
        final Map<String, Long> out = new TreeMap<>();
        byReason.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }
}
