package io.spillway.app.it.hostile;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Watches a Kafka Streams client's state from the side, and counts the times it went into shutdown or error
 * before the test asked it to stop: every such time is an input that stopped the app.
 */
final class ShutdownWatch implements AutoCloseable {
    private static final Set<KafkaStreams.State> STOPPED = EnumSet.of(KafkaStreams.State.PENDING_SHUTDOWN,
            KafkaStreams.State.NOT_RUNNING, KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR);

    private final Supplier<KafkaStreams.State> state;
    private final Thread thread;
    private final AtomicInteger shutdowns = new AtomicInteger();
    private volatile boolean closing;
    private volatile KafkaStreams.State stoppedIn;

    ShutdownWatch(final Supplier<KafkaStreams.State> state) {
        this.state = state;
        this.thread = new Thread(this::watch, "shutdown-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void watch() {
        boolean stopped = false;
        while (!closing) {
            final KafkaStreams.State now = state.get();
            final boolean stoppedNow = STOPPED.contains(now);
            if (stoppedNow && !stopped && !closing) {
                shutdowns.incrementAndGet();
                stoppedIn = now;
            }
            stopped = stoppedNow;
            try {
                Thread.sleep(10);
            } catch (final InterruptedException e) {
                return;
            }
        }
    }

    /** Times the client stopped without being asked to, so far. */
    int shutdowns() {
        return shutdowns.get();
    }

    /** A description of the last unasked-for stop, or null. */
    String lastStop() {
        return stoppedIn == null ? null : "the streams client went to " + stoppedIn;
    }

    /** Call before closing the app: its own shutdown is not counted. */
    @Override
    public void close() {
        closing = true;
        thread.interrupt();
    }
}
