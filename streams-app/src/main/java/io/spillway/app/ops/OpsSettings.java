package io.spillway.app.ops;

import java.time.Duration;
import java.util.Objects;

/**
 * How the operations endpoint listens and whom it serves. Immutable.
 *
 * @param host interface to bind, e.g. {@code 127.0.0.1}; binding beyond loopback needs {@code auth} to require a
 *        token or to be {@link OpsAuth#unauthenticatedAllowed()}
 * @param port TCP port, or 0 for any free one
 * @param auth who may read everything but {@code /health} and {@code /ready}
 * @param idleTimeout a connection that sends nothing this long is closed (also while a request is half sent)
 * @param requestHeaderTimeout a connection that has not sent a whole request head this long after it opened (or after
 *        its last response) is closed, however slowly it keeps sending
 * @param maxConnections connections served at once; at the limit, no new one is accepted and idle ones are closed
 *        after one second (those Jetty already counts as connected when it reaches the limit)
 * @param maxThreads worker threads; reading a request holds none, so slow clients cannot take them all
 */
public record OpsSettings(String host, int port, OpsAuth auth, Duration idleTimeout, Duration requestHeaderTimeout,
                          int maxConnections, int maxThreads) {
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_HEADER_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    public static final int DEFAULT_MAX_THREADS = 16;

    public OpsSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(requestHeaderTimeout, "requestHeaderTimeout");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535: " + port);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero() || requestHeaderTimeout.isNegative()
                || requestHeaderTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        if (maxConnections < 1 || maxThreads < 4) {
            throw new IllegalArgumentException("at least 1 connection and 4 threads (the server's own take 2)");
        }
    }

    /** {@code host:port} with {@code auth} and the default timeouts and limits. */
    public static OpsSettings of(final String host, final int port, final OpsAuth auth) {
        return new OpsSettings(host, port, auth, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_HEADER_TIMEOUT,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_THREADS);
    }

    /** The same with other timeouts. */
    public OpsSettings withTimeouts(final Duration idle, final Duration requestHeader) {
        return new OpsSettings(host, port, auth, idle, requestHeader, maxConnections, maxThreads);
    }

    /** The same with another connection limit. */
    public OpsSettings withMaxConnections(final int connections) {
        return new OpsSettings(host, port, auth, idleTimeout, requestHeaderTimeout, connections, maxThreads);
    }
}
