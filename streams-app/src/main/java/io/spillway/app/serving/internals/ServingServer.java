package io.spillway.app.serving.internals;

import static io.spillway.app.ops.internals.HardenedHttpServer.send;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.ops.OpsServer;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.ops.internals.HardenedHttpServer;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.ModelUnavailableException;
import io.spillway.app.serving.ModelVersion;
import io.spillway.app.serving.NextEvent;
import io.spillway.app.serving.Predictor;
import io.spillway.engine.SparseEvent;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prediction API over HTTP/1.1, JSON in and out:
 * <ul>
 *   <li>{@code GET /v1/predict/{key}[?k=N]}: the next-event distribution of the key's current state (404 for a key
 *       with no state);
 *   <li>{@code POST /v1/predict}: {@code {"key":..,"events":[{"eventType":..,"features":{"indices":[..],
 *       "values":[..]}}],"k":N}}: the distribution after those events, from the key's current state (or the zero state),
 *       which is left as it was; under a dictionary vocabulary an event may give its {@code "category"} instead of
 *       its {@code "eventType"}, and answers carry {@code "predictedCategory"} and each top entry's
 *       {@code "category"};
 *   <li>{@code GET /v1/model}: the version served, its cell, vocabulary, when it was published and applied, and what
 *       was refused;
 *   <li>{@code GET /health} (open, for probes): 200 while a version is served and the follower runs, else 503;
 *       {@code GET /metrics}: Prometheus text.
 * </ul>
 * Errors are JSON {@code {"error": code, "message": text}}: 400 (bad body or parameter, an event outside the model),
 * 401 (token required), 404 (unknown path or key), 405, 413 (body over {@code maxBodyBytes} or more than
 * {@code maxEvents} events), 415 (not JSON), 503 (no model version yet).
 *
 * <p>Hardened as the operations endpoint is ({@link OpsSettings}): idle and request-head timeouts, a connection cap,
 * a bounded thread pool, no server version header, and no binding beyond loopback without a token unless chosen.
 */
public final class ServingServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServingServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REALM = "spillway-serve";
    private static final String PREDICT = "/v1/predict";

    /** An answer that is not 200: its status, code and message. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;
        /** The request's body was left unread: answer, then close the connection. */
        final boolean closeConnection;

        Refused(final int status, final String code, final String message) {
            this(status, code, message, false);
        }

        Refused(final int status, final String code, final String message, final boolean closeConnection) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
            this.closeConnection = closeConnection;
        }
    }

    private final HardenedHttpServer http;
    private final OpsSettings settings;
    private final Predictor predictor;
    private final ServingMetrics metrics;
    private final HttpLimits limits;
    private final Supplier<List<String>> problems;
    private final ServedCategories categories;

    private ServingServer(final OpsSettings settings, final Predictor predictor, final ServingMetrics metrics,
                          final HttpLimits limits, final ServedCategories categories,
                          final Supplier<List<String>> problems) throws IOException {
        this.categories = categories;
        this.settings = settings;
        this.predictor = predictor;
        this.metrics = metrics;
        this.limits = limits;
        this.problems = problems;
        this.http = HardenedHttpServer.start("the serving endpoint", "spillway-serve-http", settings, this::handle);
    }

    /**
     * Starts serving.
     *
     * @param categories the trainer's published dictionary ({@link ServedCategories#NONE} without one): events may
     *        name their {@code "category"} instead of an {@code "eventType"}, and answers carry categories
     * @param problems what else is wrong (e.g. the scorer stopped), for {@code /health}
     * @throws IllegalStateException when bound beyond loopback without a token and an open endpoint was not chosen
     */
    public static ServingServer start(final OpsSettings settings, final Predictor predictor,
                                      final ServingMetrics metrics, final HttpLimits limits,
                                      final ServedCategories categories,
                                      final Supplier<List<String>> problems) throws IOException {
        OpsServer.checkExposure(settings.host(), settings.auth());
        final ServingServer s = new ServingServer(settings, predictor, metrics, limits, categories, problems);
        LOG.info("Serving predictions on {}v1/predict (model {}v1/model, metrics {}metrics)", s.uri(), s.uri(),
                s.uri());
        return s;
    }

    /** Base URI, e.g. {@code http://127.0.0.1:8080/}. */
    public URI uri() {
        return http.uri();
    }

    private boolean handle(final Request request, final Response response, final Callback done) {
        final long started = System.nanoTime();
        final String path = request.getHttpURI().getPath() == null ? "/" : request.getHttpURI().getPath();
        final String endpoint = endpoint(path);
        int status;
        try {
            status = route(request, response, done, path);
        } catch (final Refused r) {
            status = r.status;
            // what is left of the body is read and dropped (up to a bound), so the client, which may still be
            // sending it, reads the answer and can send its next request on the same connection
            if ((r.closeConnection || !drainRest(request)) && !response.isCommitted()) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
            error(request, response, done, r.status, r.code, r.getMessage());
        } catch (final ModelUnavailableException e) {
            status = 503;
            error(request, response, done, 503, "no-model", e.getMessage());
        } catch (final IOException | RuntimeException e) {
            LOG.warn("Serving endpoint failed on {}: {}", path, e.toString());
            status = 500;
            if (!response.isCommitted()) {
                error(request, response, done, 500, "internal", "internal error");
            } else {
                done.failed(e);
            }
        }
        metrics.request(endpoint, status, System.nanoTime() - started);
        return true;
    }

    /** A bounded label for the request timer. */
    private static String endpoint(final String path) {
        if (path.startsWith(PREDICT + "/")) {
            return "predict-key";
        }
        return switch (path) {
            case PREDICT -> "predict";
            case "/v1/model" -> "model";
            case "/health" -> "health";
            case "/metrics" -> "metrics";
            default -> "other";
        };
    }

    private int route(final Request request, final Response response, final Callback done, final String path)
            throws Refused, IOException {
        final String method = request.getMethod();
        final boolean post = "POST".equals(method);
        if (!post && !"GET".equals(method) && !"HEAD".equals(method)) {
            response.getHeaders().put(HttpHeader.ALLOW, PREDICT.equals(path) ? "POST" : "GET, HEAD");
            throw new Refused(405, "method-not-allowed", method + " is not served here");
        }
        if ("/health".equals(path)) {
            requireMethod(post, false, path);
            return health(request, response, done);
        }
        if (!settings.auth().permits(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
            response.getHeaders().add(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"" + REALM + "\"");
            throw new Refused(401, "unauthorized", "a token is required (Authorization: Bearer)");
        }
        if ("/metrics".equals(path)) {
            requireMethod(post, false, path);
            send(request, response, done, 200, "text/plain; version=0.0.4; charset=utf-8",
                    metrics.scrape().getBytes(StandardCharsets.UTF_8));
            return 200;
        }
        if ("/v1/model".equals(path)) {
            requireMethod(post, false, path);
            return json(request, response, done, 200, model());
        }
        if (PREDICT.equals(path)) {
            requireMethod(post, true, path);
            return json(request, response, done, 200, predictPost(request));
        }
        if (path.startsWith(PREDICT + "/") && path.length() > PREDICT.length() + 1) {
            requireMethod(post, false, path);
            final String key = URLDecoder.decode(path.substring(PREDICT.length() + 1), StandardCharsets.UTF_8);
            final int k = topK(Request.extractQueryParameters(request).getValue("k"));
            final Optional<NextEvent> p = predictor.predict(key, k);
            if (p.isEmpty()) {
                throw new Refused(404, "unknown-key", "no state for key '" + key + "': it has not been scored"
                        + " (or was evicted)");
            }
            return json(request, response, done, 200, nextEvent(p.get(), categories));
        }
        throw new Refused(404, "not-found", "no such resource: " + path);
    }

    private static void requireMethod(final boolean post, final boolean wantPost, final String path) throws Refused {
        if (post != wantPost) {
            throw new Refused(405, "method-not-allowed", (wantPost ? "only POST" : "only GET") + " is served on "
                    + path);
        }
    }

    private int health(final Request request, final Response response, final Callback done) throws IOException {
        final ObjectNode root = JSON.createObjectNode();
        final List<String> wrong = new ArrayList<>(problems.get());
        final Optional<ModelVersion> v = predictor.model();
        if (v.isEmpty()) {
            wrong.add("no model version yet" + (predictor.problem() == null ? "" : ": " + predictor.problem()));
        } else if (predictor.problem() != null) {
            wrong.add("the model is held at version " + v.get().version() + ": " + predictor.problem());
        }
        if (!predictor.following()) {
            wrong.add("the model follower stopped");
        }
        // a held-back model still answers: degraded, not down
        final boolean up = v.isPresent() && predictor.following() && problems.get().isEmpty();
        root.put("status", up ? (predictor.problem() == null ? "UP" : "DEGRADED") : "DOWN");
        if (v.isPresent()) {
            root.put("modelVersion", v.get().version());
        }
        final ArrayNode list = root.putArray("problems");
        wrong.forEach(list::add);
        return json(request, response, done, up ? 200 : 503, root);
    }

    private ObjectNode model() {
        final ModelVersion v = predictor.model().orElseThrow(() -> new ModelUnavailableException(
                "no model version yet" + (predictor.problem() == null ? "" : ": " + predictor.problem())));
        final ObjectNode root = JSON.createObjectNode();
        root.put("modelId", v.modelId());
        root.put("version", v.version());
        root.put("cell", v.cell());
        root.put("vocabularySize", v.vocabularySize());
        if (categories.present()) {
            // the trainer's published dictionary, as read so far (it is read on when a category or id is missing)
            root.putObject("dictionary").put("topic", categories.topic()).put("categories", categories.size());
        }
        root.put("featureDimension", predictor.featureDimension());
        if (v.publishedAtMs() >= 0) {
            root.put("publishedAtMs", v.publishedAtMs());
            root.put("stalenessSeconds", v.stalenessSeconds());
        } else {
            root.putNull("publishedAtMs");
            root.putNull("stalenessSeconds");
        }
        root.put("appliedAtMs", v.appliedAtMs());
        root.put("source", v.source().name().toLowerCase(java.util.Locale.ROOT));
        root.put("versionSwaps", predictor.versionSwaps());
        root.put("keys", predictor.keys());
        if (predictor.problem() == null) {
            root.putNull("degraded");
        } else {
            root.put("degraded", predictor.problem());
        }
        final ArrayNode refused = root.putArray("refused");
        predictor.refusals().forEach(refused::add);
        return root;
    }

    private ObjectNode predictPost(final Request request) throws Refused, IOException {
        final String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type != null && !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new Refused(415, "unsupported-media-type", "the body must be application/json, not " + type);
        }
        final long declared = request.getLength();
        if (declared > limits.maxBodyBytes()) {
            // a body of a few times the limit is read and dropped, so the client, still sending it, gets the answer
            // on a connection that stays open; a larger one is not read at all
            throw new Refused(413, "body-too-large", "the body has " + declared + " bytes, at most "
                    + limits.maxBodyBytes() + " are read", declared > DRAINED_BODY_BYTES);
        }
        final byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes(limits.maxBodyBytes() + 1);
        }
        if (body.length > limits.maxBodyBytes()) {
            throw new Refused(413, "body-too-large", "the body exceeds " + limits.maxBodyBytes() + " bytes", true);
        }
        final JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (final IOException e) {
            throw new Refused(400, "bad-json", "the body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new Refused(400, "bad-request", "the body must be a JSON object with \"key\" and \"events\"");
        }
        final JsonNode key = root.get("key");
        if (key == null || !key.isTextual() || key.asText().isEmpty()) {
            throw new Refused(400, "bad-request", "\"key\" must be a non-empty string");
        }
        final JsonNode events = root.get("events");
        if (events == null || !events.isArray() || events.isEmpty()) {
            throw new Refused(400, "bad-request", "\"events\" must be a non-empty array of events");
        }
        if (events.size() > limits.maxEvents()) {
            throw new Refused(413, "too-many-events", events.size() + " events, at most " + limits.maxEvents()
                    + " per request");
        }
        final List<SparseEvent> parsed = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            parsed.add(event(events.get(i), i, categories));
        }
        final JsonNode k = root.get("k");
        if (k != null && !k.isInt()) {
            throw new Refused(400, "bad-request", "\"k\" must be an integer");
        }
        final int top = topK(k == null ? null : k.asText());
        try {
            return nextEvent(predictor.predict(key.asText(), parsed, top), categories);
        } catch (final ModelUnavailableException e) {
            throw e;
        } catch (final IllegalArgumentException e) {
            throw new Refused(400, "invalid-event", e.getMessage());
        }
    }

    /** The most of an over-long declared body read and dropped to answer 413 on a connection that stays open. */
    private static final long DRAINED_BODY_BYTES = 1L << 20;

    /** Reads and drops what is left of the request's body; false when more than the bound is left, or it fails. */
    private static boolean drainRest(final Request request) {
        try (InputStream in = Content.Source.asInputStream(request)) {
            long left = DRAINED_BODY_BYTES;
            final byte[] scratch = new byte[8192];
            for (int n; (n = in.read(scratch, 0, (int) Math.min(scratch.length, left + 1))) >= 0; ) {
                left -= n;
                if (left < 0) {
                    return false;
                }
            }
            return true;
        } catch (final IOException | RuntimeException e) {
            return false;
        }
    }

    private static SparseEvent event(final JsonNode e, final int i, final ServedCategories categories)
            throws Refused {
        final String where = "events[" + i + "]: ";
        if (e == null || !e.isObject()) {
            throw new Refused(400, "bad-request", where + "must be an object");
        }
        final JsonNode type = e.get("eventType");
        final JsonNode category = e.get("category");
        final int eventType;
        if (category != null && !category.isNull()) {
            if (!categories.present()) {
                throw new Refused(400, "bad-request", where + "\"category\" needs a dictionary vocabulary (the"
                        + " trainer's mapping has type.vocabulary = dictionary); give \"eventType\"");
            }
            if (type != null || !category.isTextual()) {
                throw new Refused(400, "bad-request", where + "\"category\" must be a string, given instead of"
                        + " \"eventType\"");
            }
            eventType = categories.id(category.asText());
        } else if (type == null || !type.isInt()) {
            throw new Refused(400, "bad-request", where + "\"eventType\" must be an integer"
                    + (categories.present() ? " (or give \"category\")" : ""));
        } else {
            eventType = type.asInt();
        }
        int[] idx = new int[0];
        float[] val = new float[0];
        final JsonNode features = e.get("features");
        if (features != null && !features.isNull()) {
            final JsonNode indices = features.get("indices");
            final JsonNode values = features.get("values");
            if (!features.isObject() || indices == null || values == null || !indices.isArray() || !values.isArray()
                    || indices.size() != values.size()) {
                throw new Refused(400, "bad-request", where + "\"features\" must be {\"indices\": [..], \"values\":"
                        + " [..]} of one length");
            }
            idx = new int[indices.size()];
            val = new float[values.size()];
            for (int f = 0; f < idx.length; f++) {
                if (!indices.get(f).isInt() || !values.get(f).isNumber()) {
                    throw new Refused(400, "bad-request", where + "feature " + f + " must be an integer index and a"
                            + " number");
                }
                idx[f] = indices.get(f).asInt();
                val[f] = values.get(f).floatValue();
            }
        }
        return new SparseEvent(eventType, idx, val, SparseEvent.NO_LABEL);
    }

    private int topK(final String text) throws Refused {
        if (text == null) {
            return predictor.settings().topK();
        }
        final int k;
        try {
            k = Integer.parseInt(text.trim());
        } catch (final NumberFormatException e) {
            throw new Refused(400, "bad-request", "k must be an integer: " + text);
        }
        if (k < 1 || k > predictor.vocabularySize()) {
            throw new Refused(400, "bad-request", "k must be in [1, " + predictor.vocabularySize() + "]: " + k);
        }
        return k;
    }

    private static ObjectNode nextEvent(final NextEvent p, final ServedCategories categories) {
        final String[] names = categories.names(p);
        final ObjectNode root = JSON.createObjectNode();
        root.put("key", p.key());
        root.put("modelVersion", p.modelVersion());
        if (p.offset() >= 0) {
            root.put("offset", p.offset());
        } else {
            root.putNull("offset");
        }
        root.put("predictedEventType", p.predictedType());
        root.put("probability", p.probability());
        if (categories.present()) {
            root.put("predictedCategory", names[0]);
        }
        final ArrayNode top = root.putArray("top");
        for (int c = 0; c < p.top().size(); c++) {
            final ObjectNode entry = top.addObject().put("eventType", p.top().get(c).eventType())
                    .put("probability", p.top().get(c).probability());
            if (categories.present()) {
                entry.put("category", names[c + 1]);
            }
        }
        return root;
    }

    private static int json(final Request request, final Response response, final Callback done, final int status,
                            final ObjectNode body) throws IOException {
        send(request, response, done, status, "application/json", JSON.writeValueAsBytes(body));
        return status;
    }

    private static void error(final Request request, final Response response, final Callback done, final int status,
                              final String code, final String message) {
        final ObjectNode body = JSON.createObjectNode();
        body.put("error", code);
        body.put("message", message == null ? code : message);
        try {
            send(request, response, done, status, "application/json", JSON.writeValueAsBytes(body));
        } catch (final IOException e) {
            done.failed(e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
