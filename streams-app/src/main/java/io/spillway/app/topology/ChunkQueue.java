package io.spillway.app.topology;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded hand-off between the stream threads and the trainer thread. A full queue blocks the
 * producer, which stops polling Kafka: backpressure instead of unbounded memory.
 *
 * <p>Thread-safe.
 */
public final class ChunkQueue {
    private final BlockingQueue<TimedChunk> queue;
    private final AtomicLong eventsIn = new AtomicLong();
    private final AtomicLong eventsOut = new AtomicLong();
    private volatile String closed;

    public ChunkQueue(final int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
    }

    /**
     * Waits for room, then enqueues.
     *
     * @throws IllegalStateException once the queue is {@link #close() closed} (the trainer stopped): the stream
     *         thread then fails loudly instead of waiting forever for room that will never come
     */
    public void put(final TimedChunk chunk) throws InterruptedException {
        while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
            checkOpen(chunk);
        }
        checkOpen(chunk);
        eventsIn.addAndGet(chunk.size());
    }

    private void checkOpen(final TimedChunk chunk) {
        if (closed != null) {
            queue.remove(chunk);
            throw new IllegalStateException("the trainer stopped (" + closed + "); chunk of key " + chunk.key()
                    + " not accepted");
        }
    }

    /**
     * Refuses further chunks: blocked and later {@link #put} calls throw. Called by the trainer when it stops for good.
     *
     * @param reason why, for the error message
     */
    public void close(final String reason) {
        closed = reason;
    }

    /** Whether {@link #close} was called. */
    public boolean isClosed() {
        return closed != null;
    }

    /** The next chunk, or null after {@code timeout}. */
    public TimedChunk poll(final long timeout, final TimeUnit unit) throws InterruptedException {
        final TimedChunk chunk = queue.poll(timeout, unit);
        if (chunk != null) {
            eventsOut.addAndGet(chunk.size());
        }
        return chunk;
    }

    /** The next chunk if one is waiting, else null. */
    public TimedChunk pollNow() {
        final TimedChunk chunk = queue.poll();
        if (chunk != null) {
            eventsOut.addAndGet(chunk.size());
        }
        return chunk;
    }

    public int depth() {
        return queue.size();
    }

    /** Events handed to the trainer so far. */
    public long eventsEnqueued() {
        return eventsIn.get();
    }

    /** Events taken by the trainer so far. */
    public long eventsDequeued() {
        return eventsOut.get();
    }
}
