package io.spillway.app.topology;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of what the topology did with its input, for reconciliation: every consumed record is either
 * dead-lettered, handed to the trainer in a chunk, or still buffered in an open chunk. Thread-safe.
 *
 * <p>Counts are per process since start; a task that is re-processed after a failure under exactly-once may
 * count records again.
 */
public final class PipelineCounters {
    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong handedOff = new AtomicLong();
    private final AtomicLongArray deadLettered = new AtomicLongArray(DeadLetterReason.values().length);

    /** Called once per input record. */
    public void recordConsumed() {
        consumed.incrementAndGet();
    }

    /** Called once per dead-lettered record. */
    public void recordDeadLettered(final DeadLetterReason reason) {
        deadLettered.incrementAndGet(reason.ordinal());
    }

    /** Called with the size of each chunk handed to the trainer. */
    public void recordHandedOff(final int events) {
        handedOff.addAndGet(events);
    }

    /** Input records seen. */
    public long consumed() {
        return consumed.get();
    }

    /** Valid events handed to the trainer in chunks. */
    public long handedOff() {
        return handedOff.get();
    }

    /** Dead-lettered records, all reasons. */
    public long deadLettered() {
        long sum = 0;
        for (int i = 0; i < deadLettered.length(); i++) {
            sum += deadLettered.get(i);
        }
        return sum;
    }

    /** Dead-lettered records per reason (only reasons that occurred). */
    public Map<DeadLetterReason, Long> deadLetteredByReason() {
        final Map<DeadLetterReason, Long> out = new EnumMap<>(DeadLetterReason.class);
        for (final DeadLetterReason r : DeadLetterReason.values()) {
            final long n = deadLettered.get(r.ordinal());
            if (n > 0) {
                out.put(r, n);
            }
        }
        return out;
    }

    /** Valid events still waiting in open chunks: consumed minus dead-lettered minus handed off. */
    public long buffered() {
        return consumed() - deadLettered() - handedOff();
    }
}
