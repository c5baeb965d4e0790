package io.spillway.app.topology;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Counts that reconcile the pipeline: every input record is either dead-lettered, waiting for the schema
 * registry, or an event that is buffered in an open chunk, queued for the trainer, or trained:
 * {@code consumed = accepted + deadLettered + waitingForRegistry}. Thread-safe.
 */
public final class PipelineCounters {
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong waitingForRegistry = new AtomicLong();
    private final AtomicLong registryUnavailable = new AtomicLong();
    private final AtomicLong deadLettersTruncated = new AtomicLong();
    private final AtomicLong keysExpired = new AtomicLong();
    private final AtomicLong vocabularyOverflows = new AtomicLong();
    private final AtomicLong vocabularyCategories = new AtomicLong();
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

    /** Records that waited in the stores (from before a restart or a task move) count as consumed in this run. */
    void countRestoredWaiting(final int n) {
        consumed.addAndGet(n);
        waitingForRegistry.addAndGet(n);
    }

    void countWaiting(final int delta) {
        waitingForRegistry.addAndGet(delta);
    }

    void countRegistryUnavailable() {
        registryUnavailable.incrementAndGet();
    }

    void countDeadLettersTruncated() {
        deadLettersTruncated.incrementAndGet();
    }

    void countKeysExpired(final int n) {
        keysExpired.addAndGet(n);
    }

    /**
     * An accepted record's categories: {@code overflowed} of them took the dictionary's overflow class; the
     * dictionary now holds {@code categories}.
     */
    void countVocabulary(final int overflowed, final int categories) {
        vocabularyOverflows.addAndGet(overflowed);
        vocabularyCategories.set(categories);
    }

    /** A dictionary restored with this many categories. */
    void vocabularyRestored(final int categories) {
        vocabularyCategories.set(categories);
    }

    /** Categories of accepted records that took the dictionary vocabulary's overflow class (it was full). */
    public long vocabularyOverflows() {
        return vocabularyOverflows.get();
    }

    /** Categories with an id of their own in the dictionary vocabulary (0 without one). */
    public long vocabularyCategories() {
        return vocabularyCategories.get();
    }

    /** Input records waiting for the schema registry now (it was unreachable when they came). */
    public long waitingForRegistry() {
        return waitingForRegistry.get();
    }

    /** Times a record's writer schema could not be fetched because the registry was unreachable. */
    public long registryUnavailable() {
        return registryUnavailable.get();
    }

    /** Dead letters sent truncated to fit the dead-letter topic's record limit. */
    public long deadLettersTruncated() {
        return deadLettersTruncated.get();
    }

    /** Keys whose bookkeeping was deleted after they stayed idle past the retention. */
    public long keysExpired() {
        return keysExpired.get();
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
