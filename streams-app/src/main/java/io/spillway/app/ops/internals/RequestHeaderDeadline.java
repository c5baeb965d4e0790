package io.spillway.app.ops.internals;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that has not sent a whole request head within a deadline of opening (or of its last
 * response). Jetty's idle timeout closes a connection that sends nothing; this one closes a slow-loris client, which
 * sends a byte of its headers just before each idle timeout and would otherwise hold its connection for hours.
 *
 * <p>Register it as a bean of the connector (Jetty then tells it of every connection), and call {@link #received}
 * when a request's head has arrived and {@link #responded} when its response is complete. Thread-safe.
 */
public final class RequestHeaderDeadline implements Connection.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHeaderDeadline.class);

    private final Scheduler scheduler;
    private final Duration deadline;
    private final Map<Connection, Pending> pending = new ConcurrentHashMap<>();

    public RequestHeaderDeadline(final Scheduler scheduler, final Duration deadline) {
        this.scheduler = scheduler;
        this.deadline = deadline;
    }

    @Override
    public void onOpened(final Connection connection) {
        arm(connection);
    }

    @Override
    public void onClosed(final Connection connection) {
        disarm(connection);
    }

    /** A request head arrived on {@code connection}: its handling is not limited by this deadline. */
    public void received(final Connection connection) {
        disarm(connection);
    }

    /** The response on {@code connection} is complete: the next request head must arrive within the deadline. */
    public void responded(final Connection connection) {
        if (connection.getEndPoint().isOpen()) {
            arm(connection);
        }
    }

    /** Connections now waiting for a request head (for tests). */
    public int waiting() {
        return pending.size();
    }

    private void arm(final Connection connection) {
        final Pending next = new Pending(connection);
        final Pending previous = pending.put(connection, next);
        if (previous != null) {
            previous.cancel();
        }
        next.task = scheduler.schedule(next, deadline);
    }

    private void disarm(final Connection connection) {
        final Pending p = pending.remove(connection);
        if (p != null) {
            p.cancel();
        }
    }

    /** One connection's deadline; it fires only while it is still the connection's current one. */
    private final class Pending implements Runnable {
        private final Connection connection;
        private volatile Scheduler.Task task;

        Pending(final Connection connection) {
            this.connection = connection;
        }

        @Override
        public void run() {
            if (pending.remove(connection, this)) {
                LOG.debug("Closing {}: no whole request head within {}", connection.getEndPoint().getRemoteSocketAddress(),
                        deadline);
                connection.getEndPoint().close();
            }
        }

        void cancel() {
            final Scheduler.Task t = task;
            if (t != null) {
                t.cancel();
            }
        }
    }
}
