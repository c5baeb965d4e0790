package io.spillway.app.ops.internals;

import io.spillway.app.ops.OpsSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way Spillway's HTTP endpoints (operations, serving) run Jetty so that no client can starve them: a bounded
 * worker pool, an idle timeout, a deadline on each request head (slow-loris clients), a connection limit that closes
 * idle connections to make room, no server banner, and small responses written at once.
 *
 * <p>The endpoint supplies only its routes, as a {@link Routes}; this class tells the request-head deadline when a
 * request arrived and when its response completed.
 */
public final class HardenedHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HardenedHttpServer.class);
    /** At the connection limit, connections idle this long are closed to make room. */
    private static final long IDLE_AT_LIMIT_MS = 1_000;

    /** An endpoint's request handling: answer through {@code done}, and return whether the request was handled. */
    @FunctionalInterface
    public interface Routes {
        boolean handle(Request request, Response response, Callback done) throws Exception;
    }

    private final String what;
    private final OpsSettings settings;
    private final Server server;
    private final ServerConnector connector;
    private final RequestHeaderDeadline headerDeadline;

    private HardenedHttpServer(final String what, final String threadName, final OpsSettings settings,
                               final Routes routes) {
        this.what = what;
        this.settings = settings;
        final QueuedThreadPool threads = new QueuedThreadPool(settings.maxThreads(), 2);
        threads.setName(threadName);
        threads.setDaemon(true);
        this.server = new Server(threads);
        final HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(settings.host().isBlank() ? null : settings.host()); // blank: every interface
        connector.setPort(settings.port());
        connector.setIdleTimeout(settings.idleTimeout().toMillis());
        this.headerDeadline = new RequestHeaderDeadline(server.getScheduler(), settings.requestHeaderTimeout());
        connector.addBean(headerDeadline);
        server.addConnector(connector);
        final NetworkConnectionLimit limit = new NetworkConnectionLimit(settings.maxConnections(), connector);
        limit.setEndPointIdleTimeout(IDLE_AT_LIMIT_MS);
        server.addBean(limit);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(final Request request, final Response response, final Callback callback)
                    throws Exception {
                final Connection connection = request.getConnectionMetaData().getConnection();
                headerDeadline.received(connection);
                return routes.handle(request, response,
                        Callback.from(callback, () -> headerDeadline.responded(connection)));
            }
        });
        server.setStopTimeout(0); // nothing to drain: every response is small and written at once
    }

    /**
     * Starts an endpoint.
     *
     * @param what the endpoint's name in errors and logs, e.g. {@code "the operations endpoint"}
     * @param threadName the worker threads' name
     * @throws IOException when it cannot bind or start (the port in use, an unknown host)
     */
    public static HardenedHttpServer start(final String what, final String threadName, final OpsSettings settings,
                                           final Routes routes) throws IOException {
        final HardenedHttpServer s = new HardenedHttpServer(what, threadName, settings, routes);
        try {
            s.server.start();
        } catch (final IOException | RuntimeException e) {
            s.close();
            throw e;
        } catch (final Exception e) {
            s.close();
            throw new IOException(what + " could not start on " + settings.host() + ":" + settings.port() + ": "
                    + e.getMessage(), e);
        }
        return s;
    }

    /** Base URI, e.g. {@code http://127.0.0.1:9404/}. */
    public URI uri() {
        final String bound = settings.host().isBlank() ? "0.0.0.0" : settings.host();
        final String host = bound.contains(":") ? "[" + bound + "]" : bound;
        return URI.create("http://" + host + ":" + connector.getLocalPort() + "/");
    }

    /** Connections waiting for a request head now (for tests). */
    public int connectionsAwaitingRequest() {
        return headerDeadline.waiting();
    }

    /** Writes a whole response at once; a {@code HEAD} request gets the headers only. */
    public static void send(final Request request, final Response response, final Callback done, final int status,
                            final String type, final byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        final boolean head = "HEAD".equals(request.getMethod());
        response.write(true, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(body), done);
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (final Exception e) {
            LOG.warn("Stopping {} failed: {}", what, e.toString());
        }
    }
}
