package io.spillway.app.ops;

import static io.spillway.app.ops.internals.HardenedHttpServer.send;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.ops.internals.HardenedHttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app's operations endpoint on one HTTP port (bound to 127.0.0.1 unless told otherwise):
 * <ul>
 *   <li>{@code /metrics} (and {@code /prometheus}): Prometheus text exposition of every meter;
 *   <li>{@code /health}: liveness, 200 while the app can still train (see {@link Liveness}), else 503, with a JSON
 *       body naming each part's state and what is wrong; {@code /ready}: 200 once the app is ready (topology
 *       running, learner built), else 503;
 *   <li>{@code /api/history}: the recent training steps and dead-letter counts as JSON;
 *   <li>{@code /} and {@code /dashboard}: a live dashboard page drawing those curves.
 * </ul>
 * Only GET and HEAD are served. When {@link OpsAuth#required()}, everything but {@code /health} and {@code /ready}
 * (left open for probes) answers 401 without the token. It refuses to start bound beyond loopback unless a token is
 * required or an open endpoint was chosen ({@link OpsAuth#unauthenticatedAllowed()}).
 *
 * <p>Slow or idle clients cannot starve it: Jetty reads requests without holding a thread, a connection that sends
 * nothing for {@link OpsSettings#idleTimeout()} or no whole request head within
 * {@link OpsSettings#requestHeaderTimeout()} is closed, and connections are bounded
 * ({@link OpsSettings#maxConnections()}).
 */
public final class OpsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpsServer.class);
    private static final String DASHBOARD = "/io/spillway/app/ops/dashboard.html";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REALM = "spillway-ops";

    private final HardenedHttpServer http;
    private final OpsSettings settings;
    private final OpsMetrics metrics;
    private final BooleanSupplier ready;
    private final Supplier<Health> health;
    private final byte[] dashboard;

    private OpsServer(final OpsSettings settings, final OpsMetrics metrics, final BooleanSupplier ready,
                      final Supplier<Health> health) throws IOException {
        this.settings = settings;
        this.metrics = metrics;
        this.ready = ready;
        this.health = health;
        this.dashboard = resource(DASHBOARD);
        this.http = HardenedHttpServer.start("the operations endpoint", "spillway-ops-http", settings, this::handle);
    }

    /**
     * Starts serving.
     *
     * @param ready whether the app is ready; polled on each {@code /ready}
     * @param health the app's liveness; polled on each {@code /health}
     * @throws IllegalStateException when {@code settings} bind beyond loopback without authentication and an open
     *         endpoint was not chosen
     */
    public static OpsServer start(final OpsSettings settings, final OpsMetrics metrics, final BooleanSupplier ready,
                                  final Supplier<Health> health) throws IOException {
        checkExposure(settings.host(), settings.auth());
        final OpsServer ops = new OpsServer(settings, Objects.requireNonNull(metrics, "metrics"),
                Objects.requireNonNull(ready, "ready"), Objects.requireNonNull(health, "health"));
        LOG.info("Operations endpoint on {} (metrics {}metrics, dashboard {}dashboard{})", ops.uri(), ops.uri(),
                ops.uri(), settings.auth().required() ? "; a token is required but for /health and /ready" : "");
        return ops;
    }

    /**
     * Refuses an endpoint reachable from other machines that anyone could read, unless that was chosen.
     *
     * @throws IllegalStateException when {@code host} is not a loopback address (or a wildcard, or does not resolve)
     *         and {@code auth} neither requires a token nor is {@link OpsAuth#unauthenticatedAllowed()}
     */
    public static void checkExposure(final String host, final OpsAuth auth) {
        if (auth.required() || isLoopback(host)) {
            return;
        }
        if (!auth.openByChoice()) {
            throw new IllegalStateException("the operations endpoint would listen on " + host + ", beyond loopback,"
                    + " without authentication: give it a token (--ops-auth-token-file, or spillway.ops.auth.token in"
                    + " --config), bind it to 127.0.0.1 (--ops-host), or serve it open with --ops-allow-unauthenticated");
        }
        LOG.warn("The operations endpoint listens on {} without authentication (--ops-allow-unauthenticated):"
                + " anyone who reaches it reads the metrics and the dashboard", host);
    }

    /** Whether every address {@code host} names is a loopback address (an empty host is the wildcard). */
    static boolean isLoopback(final String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        try {
            for (final InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (final UnknownHostException e) {
            return false;
        }
    }

    /** Base URI, e.g. {@code http://127.0.0.1:9404/}. */
    public URI uri() {
        return http.uri();
    }

    /** Connections waiting for a request head now (for tests). */
    int connectionsAwaitingRequest() {
        return http.connectionsAwaitingRequest();
    }

    /** Answers a request; every response is written without blocking the thread. */
    private boolean handle(final Request request, final Response response, final Callback done) {
        try {
            route(request, response, done);
        } catch (final IOException | RuntimeException e) {
            LOG.warn("Operations endpoint failed on {}: {}", request.getHttpURI().getPath(), e.toString());
            if (!response.isCommitted()) {
                Response.writeError(request, response, done, 500, "internal error");
            } else {
                done.failed(e);
            }
        }
        return true;
    }

    private void route(final Request request, final Response response, final Callback done) throws IOException {
        final String method = request.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            send(request, response, done, 405, "text/plain", "only GET is served\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        final String path = request.getHttpURI().getPath();
        switch (path) {
            case "/health" -> {
                final Health h = health.get();
                send(request, response, done, h.up() ? 200 : 503, "application/json", health(h));
                return;
            }
            case "/ready" -> {
                final boolean isReady = ready.getAsBoolean();
                send(request, response, done, isReady ? 200 : 503, "application/json",
                        ("{\"ready\":" + isReady + "}").getBytes(StandardCharsets.UTF_8));
                return;
            }
            default -> {
                // everything else needs the token when one is required
            }
        }
        if (!settings.auth().permits(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
            response.getHeaders().add(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
            response.getHeaders().add(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"" + REALM + "\"");
            send(request, response, done, 401, "text/plain",
                    "a token is required (Authorization: Bearer, or basic with the token as password)\n"
                            .getBytes(StandardCharsets.UTF_8));
            return;
        }
        switch (path) {
            case "/metrics", "/prometheus" -> send(request, response, done, 200,
                    "text/plain; version=0.0.4; charset=utf-8", metrics.scrape().getBytes(StandardCharsets.UTF_8));
            case "/api/history" -> send(request, response, done, 200, "application/json", history());
            case "/", "/dashboard" -> send(request, response, done, 200, "text/html; charset=utf-8", dashboard);
            default -> send(request, response, done, 404, "text/plain", "not found\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static byte[] health(final Health h) throws IOException {
        final ObjectNode root = JSON.createObjectNode();
        root.put("status", h.up() ? "UP" : "DOWN");
        final ObjectNode components = root.putObject("components");
        for (final Map.Entry<String, String> e : new TreeMap<>(h.components()).entrySet()) {
            components.put(e.getKey(), e.getValue());
        }
        if (!h.up()) {
            final ArrayNode problems = root.putArray("problems");
            h.problems().forEach(problems::add);
        }
        return JSON.writeValueAsBytes(root);
    }

    private byte[] history() throws IOException {
        final ObjectNode root = JSON.createObjectNode();
        final List<TrainingFigures> steps = metrics.history();
        final ArrayNode points = root.putArray("steps");
        for (final TrainingFigures f : steps) {
            final ObjectNode p = points.addObject();
            p.put("t", f.timestampMs());
            p.put("version", f.modelVersion());
            number(p, "loss", f.loss());
            number(p, "accuracy", f.accuracy());
            number(p, "predictionLoss", f.predictionLoss());
            number(p, "predictionAccuracy", f.predictionAccuracy());
            number(p, "eventsPerSecond", f.eventsPerSecond());
            p.put("eventsTrained", f.eventsTrained());
            p.put("consumerLag", f.consumerLag());
            p.put("queueDepth", f.queueDepth());
            p.put("peakDeviceBytes", f.peakDeviceBytes());
            p.put("offChipBytes", f.offChipBytes());
            p.put("transferBytes", f.transferBytes());
            number(p, "recomputeRatio", f.recomputeRatio());
            p.put("optimizerWindowBytes", f.optimizerWindowBytes());
            p.put("divergedSteps", f.divergedSteps());
        }
        metrics.latest().ifPresent(f -> {
            root.put("backend", f.backend());
            root.put("optimizer", f.optimizer());
            root.put("checkpointSchedule", f.checkpointSchedule());
            root.put("modelVersion", f.modelVersion());
        });
        final ObjectNode dlq = root.putObject("deadLetters");
        for (final Map.Entry<String, Long> e : metrics.deadLetterCounts().entrySet()) {
            dlq.put(e.getKey(), e.getValue());
        }
        return JSON.writeValueAsBytes(root);
    }

    /** JSON has no NaN or infinity: an undefined figure (nothing trained yet) is written as null. */
    private static void number(final ObjectNode node, final String name, final double value) {
        if (Double.isFinite(value)) {
            node.put(name, value);
        } else {
            node.putNull(name);
        }
    }

    private static byte[] resource(final String name) {
        try (InputStream in = OpsServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
