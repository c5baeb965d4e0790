package io.spillway.app.ops;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says in the app's own words when Kafka is unreachable and when it is back. The Kafka clients retry on their
 * own (and log per connection attempt); this adds one clear line per outage, a reminder while it lasts, and the
 * outage's length when it ends.
 *
 * <p>Thread-safe; runs on its own daemon thread.
 */
public final class BrokerWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerWatch.class);
    private static final long REMIND_MS = 30_000;

    private final Admin admin;
    private final String servers;
    private final ScheduledExecutorService timer;
    private final AtomicLong outages = new AtomicLong();
    private volatile long downSinceMs = -1;
    private long remindedAtMs;

    private BrokerWatch(final Map<String, Object> clientConfig, final String servers, final Duration every) {
        this.admin = Admin.create(clientConfig);
        this.servers = servers;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, "spillway-broker-watch");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> check(every), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Checks {@code servers} every {@code every} with the client settings given. */
    public static BrokerWatch start(final Map<String, Object> clientConfig, final String servers, final Duration every) {
        return new BrokerWatch(clientConfig, servers, every);
    }

    private void check(final Duration every) {
        final long now = System.currentTimeMillis();
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.max(1_000, every.toMillis())))
                    .nodes().get();
            if (downSinceMs >= 0) {
                LOG.info("Kafka at {} is reachable again after {} s; the clients resume where they were", servers,
                        (now - downSinceMs) / 1000);
                downSinceMs = -1;
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final Exception e) {
            final String why = e.getCause() != null ? e.getCause().toString() : e.toString();
            if (downSinceMs < 0) {
                downSinceMs = now;
                remindedAtMs = now;
                outages.incrementAndGet();
                LOG.warn("Kafka at {} is unreachable ({}); the topology and the trainer keep retrying with backoff, "
                        + "and resume when it is back", servers, why);
            } else if (now - remindedAtMs >= REMIND_MS) {
                remindedAtMs = now;
                LOG.warn("Kafka at {} still unreachable after {} s ({}); still retrying", servers,
                        (now - downSinceMs) / 1000, why);
            }
        }
    }

    /** Outages seen so far. */
    public long outages() {
        return outages.get();
    }

    /** Whether the last check reached Kafka. */
    public boolean reachable() {
        return downSinceMs < 0;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
