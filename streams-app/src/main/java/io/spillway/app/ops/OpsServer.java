package io.spillway.app.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app's operations endpoint on one HTTP port (bound to 127.0.0.1 unless told otherwise):
 * <ul>
 *   <li>{@code /metrics} (and {@code /prometheus}): Prometheus text exposition of every meter;
 *   <li>{@code /health}: 200 while the process serves; {@code /ready}: 200 once the app is ready
 *       (topology running, learner built), else 503;
 *   <li>{@code /api/history}: the recent training steps and dead-letter counts as JSON;
 *   <li>{@code /} and {@code /dashboard}: a live dashboard page drawing those curves.
 * </ul>
 * Only GET is served; the server holds no secrets and accepts no input beyond the path.
 */
public final class OpsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpsServer.class);
    private static final String DASHBOARD = "/io/spillway/app/ops/dashboard.html";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;
    private final OpsMetrics metrics;
    private final BooleanSupplier ready;
    private final byte[] dashboard;

    private OpsServer(final HttpServer server, final ExecutorService executor, final OpsMetrics metrics,
                      final BooleanSupplier ready) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
        this.ready = ready;
        this.dashboard = resource(DASHBOARD);
    }

    /**
     * Starts serving.
     *
     * @param host interface to bind, e.g. {@code 127.0.0.1}
     * @param port TCP port, or 0 for any free one (see {@link #uri()})
     * @param ready whether the app is ready; polled on each {@code /ready}
     */
    public static OpsServer start(final String host, final int port, final OpsMetrics metrics,
                                  final BooleanSupplier ready) throws IOException {
        final HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            final Thread t = new Thread(r, "spillway-ops-http");
            t.setDaemon(true);
            return t;
        });
        final OpsServer ops = new OpsServer(server, executor, Objects.requireNonNull(metrics, "metrics"),
                Objects.requireNonNull(ready, "ready"));
        server.createContext("/", ops::handle);
        server.setExecutor(executor);
        server.start();
        LOG.info("Operations endpoint on {} (metrics {}metrics, dashboard {}dashboard)", ops.uri(), ops.uri(),
                ops.uri());
        return ops;
    }

    /** Base URI, e.g. {@code http://127.0.0.1:9404/}. */
    public URI uri() {
        final InetSocketAddress address = server.getAddress();
        return URI.create("http://" + address.getHostString() + ":" + address.getPort() + "/");
    }

    private void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                send(exchange, 405, "text/plain", "only GET is served\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            switch (exchange.getRequestURI().getPath()) {
                case "/metrics", "/prometheus" -> send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.scrape().getBytes(StandardCharsets.UTF_8));
                case "/health" -> send(exchange, 200, "application/json", "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8));
                case "/ready" -> {
                    final boolean isReady = ready.getAsBoolean();
                    send(exchange, isReady ? 200 : 503, "application/json",
                            ("{\"ready\":" + isReady + "}").getBytes(StandardCharsets.UTF_8));
                }
                case "/api/history" -> send(exchange, 200, "application/json", history());
                case "/", "/dashboard" -> send(exchange, 200, "text/html; charset=utf-8", dashboard);
                default -> send(exchange, 404, "text/plain", "not found\n".getBytes(StandardCharsets.UTF_8));
            }
        } catch (final RuntimeException e) {
            LOG.warn("Operations endpoint failed on {}: {}", exchange.getRequestURI(), e.toString());
        }
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

    private static void send(final HttpExchange exchange, final int status, final String type, final byte[] body)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        final boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
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
        server.stop(0);
        executor.shutdownNow();
    }
}
