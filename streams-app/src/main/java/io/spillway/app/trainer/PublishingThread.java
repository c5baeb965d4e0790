package io.spillway.app.trainer;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One thread that runs the trainer's publishing tasks in the order they were handed over, so that encoding and
 * sending a step's records overlaps the next step's training. The queue is short: a trainer that gets ahead of
 * its publishing waits. The first task that fails stops the publishing; the trainer learns of it at its next
 * {@link #submit} or at {@link #drain}.
 *
 * <p>Threading: {@link #submit}, {@link #drain} and {@link #close} from the trainer thread.
 */
final class PublishingThread implements AutoCloseable {
    private static final Runnable END = () -> { };

    private final BlockingQueue<Runnable> queue;
    private final Thread thread;
    private volatile Throwable failure;

    /**
     * @param name the thread's name
     * @param depth tasks that may wait to run, at least 1
     */
    PublishingThread(final String name, final int depth) {
        this.queue = new ArrayBlockingQueue<>(depth);
        this.thread = new Thread(this::work, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void work() {
        while (true) {
            final Runnable task;
            try {
                task = queue.take();
            } catch (final InterruptedException e) {
                return;
            }
            if (task == END) {
                return;
            }
            if (failure == null) { // after a failure, tasks are taken and dropped so that the trainer never blocks
                try {
                    task.run();
                } catch (final RuntimeException | Error e) {
                    failure = e;
                }
            }
        }
    }

    /** Queues {@code task} behind the ones before it; waits while the queue is full. */
    void submit(final Runnable task) throws InterruptedException {
        rethrowFailure();
        queue.put(task);
    }

    /** Waits until every task submitted so far has run; rethrows the first failure. */
    void drain() throws InterruptedException {
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        queue.put(done::countDown);
        while (!done.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            rethrowFailure(); // a failed thread drops the latch's task
        }
        rethrowFailure();
    }

    private void rethrowFailure() {
        final Throwable f = failure;
        if (f != null) {
            throw new IllegalStateException("publishing failed: " + f, f);
        }
    }

    /** Lets the thread finish the tasks queued and end; waits for it. */
    @Override
    public void close() throws InterruptedException {
        queue.put(END);
        thread.join();
    }
}
