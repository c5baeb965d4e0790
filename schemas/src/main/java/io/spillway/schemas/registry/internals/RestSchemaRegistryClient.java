package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.IncompatibleSchemaException;
import io.spillway.schemas.registry.InvalidSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClientConfig;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.UnknownVersionException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST client of a Confluent-compatible registry over {@link HttpClient}.
 *
 * <p>Thread-safe. Schemas are cached by id and ids by (subject, schema) forever (ids are immutable),
 * so repeated {@link #register} / {@link #getById} calls make no request. Connection failures,
 * timeouts and 5xx answers are retried with doubling backoff, moving to the next URL of the list;
 * after the last retry a {@link SchemaRegistryUnavailableException} is thrown. The basic-auth
 * secret is kept only inside the prepared header and never logged.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {
    private static final Logger LOG = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT = CONTENT_TYPE + ", application/json;q=0.9";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> baseUrls;
    private final AtomicInteger preferred = new AtomicInteger();
    private final HttpClient http;
    private final String authorization;
    private final Duration requestTimeout;
    private final int maxRetries;
    private final long backoffMs;
    private final long backoffMaxMs;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();

    private RestSchemaRegistryClient(final List<URI> baseUrls, final String authorization,
                                     final Duration connectTimeout, final Duration requestTimeout,
                                     final int maxRetries, final long backoffMs, final long backoffMaxMs) {
        this.baseUrls = List.copyOf(baseUrls);
        this.authorization = authorization;
        this.requestTimeout = requestTimeout;
        this.maxRetries = maxRetries;
        this.backoffMs = backoffMs;
        this.backoffMaxMs = backoffMaxMs;
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * @param urls one URL or a comma-separated list, each http:// or https://
     * @param config keys of {@link SchemaRegistryClientConfig}
     * @throws IllegalArgumentException for malformed URLs or settings
     */
    public static RestSchemaRegistryClient create(final String urls, final Map<String, ?> config) {
        final String source = stringValue(config, SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE);
        final String userInfo = stringValue(config, SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO);
        final boolean credentialsFromUrl = source != null && source.trim().equalsIgnoreCase("URL");
        if (source != null && !credentialsFromUrl && !source.trim().equalsIgnoreCase("USER_INFO")) {
            throw new IllegalArgumentException(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE
                + " must be USER_INFO or URL, was '" + source + "'");
        }
        final List<URI> bases = new ArrayList<>();
        String credentials = null;
        for (final String part : urls.split(",")) {
            final String trimmed = part.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            final URI uri;
            try {
                uri = URI.create(trimmed);
            } catch (final IllegalArgumentException e) {
                throw new IllegalArgumentException("malformed schema registry URL: " + redact(trimmed), e);
            }
            final String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("schema registry URL must be http(s)://host[:port] or mock://scope, was "
                    + redact(trimmed));
            }
            if (uri.getRawUserInfo() != null && credentialsFromUrl && credentials == null) {
                credentials = java.net.URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8);
            }
            bases.add(URI.create(scheme + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + stripTrailingSlash(uri.getRawPath())));
        }
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("schema registry URL is empty");
        }
        if (!credentialsFromUrl && userInfo != null && !userInfo.isBlank()) {
            credentials = userInfo;
        }
        if (credentialsFromUrl && credentials == null) {
            throw new IllegalArgumentException(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE
                + "=URL but no URL carries user:password@");
        }
        if (credentials != null && !credentials.contains(":")) {
            throw new IllegalArgumentException("basic auth credentials must be user:password");
        }
        final String authorization = credentials == null ? null
            : "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
        return new RestSchemaRegistryClient(bases, authorization,
            Duration.ofMillis(longValue(config, SchemaRegistryClientConfig.CONNECT_TIMEOUT_MS, 5_000)),
            Duration.ofMillis(longValue(config, SchemaRegistryClientConfig.REQUEST_TIMEOUT_MS, 10_000)),
            (int) longValue(config, SchemaRegistryClientConfig.MAX_RETRIES, 3),
            longValue(config, SchemaRegistryClientConfig.RETRY_BACKOFF_MS, 100),
            longValue(config, SchemaRegistryClientConfig.RETRY_BACKOFF_MAX_MS, 2_000));
    }

    @Override
    public int register(final String subject, final Schema schema) {
        final Map<Schema, Integer> known = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        final Integer cached = known.get(schema);
        if (cached != null) {
            return cached;
        }
        final JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
        final int id = requiredInt(answer, "id");
        known.put(schema, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema getById(final int id) {
        final Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        final JsonNode answer = send("GET", "/schemas/ids/" + id, null);
        final String type = answer.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new SchemaRegistryException("schema id " + id + " is of type " + type + ", not AVRO");
        }
        final Schema schema = AvroSchemas.parse(requiredText(answer, "schema"));
        final Schema raced = schemasById.putIfAbsent(id, schema);
        return raced == null ? schema : raced;
    }

    @Override
    public Optional<RegisteredSchema> lookup(final String subject, final Schema schema) {
        try {
            final JsonNode answer = send("POST", "/subjects/" + encode(subject), schemaBody(schema));
            final RegisteredSchema found = new RegisteredSchema(subject, requiredInt(answer, "version"),
                requiredInt(answer, "id"), schema);
            idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>()).put(schema, found.id());
            return Optional.of(found);
        } catch (final UnknownSchemaException | UnknownSubjectException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean testCompatibility(final String subject, final Schema schema) {
        try {
            final JsonNode answer = send("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest",
                schemaBody(schema));
            return answer.path("is_compatible").asBoolean(false);
        } catch (final UnknownSubjectException | UnknownVersionException e) {
            // A subject without versions accepts any schema.
            return true;
        }
    }

    @Override
    public Optional<RegisteredSchema> latest(final String subject) {
        return fetchVersion(subject, "latest");
    }

    @Override
    public Optional<RegisteredSchema> version(final String subject, final int version) {
        return fetchVersion(subject, Integer.toString(version));
    }

    private Optional<RegisteredSchema> fetchVersion(final String subject, final String version) {
        try {
            final JsonNode answer = send("GET", "/subjects/" + encode(subject) + "/versions/" + version, null);
            final int id = requiredInt(answer, "id");
            final Schema schema = schemasById.computeIfAbsent(id, k -> AvroSchemas.parse(requiredText(answer, "schema")));
            return Optional.of(new RegisteredSchema(subject, requiredInt(answer, "version"), id, schema));
        } catch (final UnknownSubjectException | UnknownVersionException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<Integer> versions(final String subject) {
        try {
            final List<Integer> out = new ArrayList<>();
            send("GET", "/subjects/" + encode(subject) + "/versions", null).forEach(n -> out.add(n.asInt()));
            return out;
        } catch (final UnknownSubjectException e) {
            return List.of();
        }
    }

    @Override
    public List<String> subjects() {
        final List<String> out = new ArrayList<>();
        send("GET", "/subjects", null).forEach(n -> out.add(n.asText()));
        return out;
    }

    @Override
    public List<Integer> deleteSubject(final String subject) {
        try {
            final List<Integer> out = new ArrayList<>();
            send("DELETE", "/subjects/" + encode(subject), null).forEach(n -> out.add(n.asInt()));
            idsBySubject.remove(subject);
            return out;
        } catch (final UnknownSubjectException e) {
            return List.of();
        }
    }

    @Override
    public CompatibilityLevel compatibility(final String subject) {
        final JsonNode answer = send("GET", "/config/" + encode(subject) + "?defaultToGlobal=true", null);
        return CompatibilityLevel.parse(requiredText(answer, "compatibilityLevel"));
    }

    @Override
    public void setCompatibility(final String subject, final CompatibilityLevel level) {
        send("PUT", "/config/" + encode(subject), JSON.createObjectNode().put("compatibility", level.name()));
    }

    @Override
    public CompatibilityLevel globalCompatibility() {
        return CompatibilityLevel.parse(requiredText(send("GET", "/config", null), "compatibilityLevel"));
    }

    @Override
    public void setGlobalCompatibility(final CompatibilityLevel level) {
        send("PUT", "/config", JSON.createObjectNode().put("compatibility", level.name()));
    }

    @Override
    public void close() {
        http.close();
    }

    @Override
    public String toString() {
        return "RestSchemaRegistryClient" + baseUrls + (authorization == null ? "" : " (basic auth)");
    }

    private static ObjectNode schemaBody(final Schema schema) {
        return JSON.createObjectNode().put("schema", AvroSchemas.canonicalText(schema));
    }

    /**
     * Sends one request with retries.
     *
     * @return the parsed 2xx body
     */
    private JsonNode send(final String method, final String pathAndQuery, final JsonNode body) {
        final byte[] payload = body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8);
        final int start = Math.floorMod(preferred.get(), baseUrls.size());
        Exception lastFailure = null;
        int lastStatus = -1;
        String lastMessage = "";
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            if (attempt > 0) {
                pause(Math.min(backoffMaxMs, backoffMs << Math.min(attempt - 1, 20)));
            }
            final int index = (start + attempt) % baseUrls.size();
            final URI base = baseUrls.get(index);
            final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                .timeout(requestTimeout)
                .header("Accept", ACCEPT)
                .method(method, payload == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(payload));
            if (payload != null) {
                request.header("Content-Type", CONTENT_TYPE);
            }
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            final HttpResponse<byte[]> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (final IOException e) {
                lastFailure = e;
                lastStatus = -1;
                lastMessage = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                LOG.debug("Schema registry {} {} {} failed (attempt {}): {}", base, method, pathAndQuery,
                    attempt + 1, lastMessage);
                continue;
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryUnavailableException("interrupted while calling schema registry " + base, -1, e);
            }
            final int status = response.statusCode();
            if (status >= 500 || status == 408 || status == 429) {
                lastFailure = null;
                lastStatus = status;
                lastMessage = "HTTP " + status + " " + errorMessage(response.body());
                LOG.debug("Schema registry {} {} {} answered {} (attempt {})", base, method, pathAndQuery, status,
                    attempt + 1);
                continue;
            }
            preferred.set(index);
            if (status >= 200 && status < 300) {
                return parse(response.body(), base + pathAndQuery);
            }
            throw clientError(status, response.body(), method, pathAndQuery);
        }
        throw new SchemaRegistryUnavailableException("schema registry " + baseUrls + " unavailable for " + method + " "
            + pathAndQuery + " after " + (maxRetries + 1) + " attempts; last failure: " + lastMessage,
            lastStatus, lastFailure);
    }

    private static void pause(final long millis) {
        try {
            Thread.sleep(millis);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryUnavailableException("interrupted while backing off between schema registry retries",
                -1, e);
        }
    }

    private static JsonNode parse(final byte[] body, final String where) {
        try {
            return body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (final IOException e) {
            throw new SchemaRegistryException("schema registry answered " + where + " with malformed JSON: "
                + e.getMessage(), -1, -1, e);
        }
    }

    private static SchemaRegistryException clientError(final int status, final byte[] body, final String method,
                                                       final String path) {
        int code = status;
        String message = new String(body, StandardCharsets.UTF_8);
        try {
            final JsonNode error = JSON.readTree(body);
            if (error != null && error.isObject()) {
                code = error.path("error_code").asInt(status);
                message = error.path("message").asText(message);
            }
        } catch (final JsonProcessingException e) {
            // Not JSON (e.g. a proxy's page): keep the raw text.
        } catch (final IOException e) {
            // Unreadable body: keep the raw text.
        }
        final String where = " (" + method + " " + path + ")";
        return switch (code) {
            case UnknownSchemaException.ERROR_CODE -> new UnknownSchemaException(message + where);
            case UnknownSubjectException.ERROR_CODE -> new UnknownSubjectException(message + where);
            case UnknownVersionException.ERROR_CODE -> new UnknownVersionException(message + where);
            case IncompatibleSchemaException.ERROR_CODE -> new IncompatibleSchemaException(message + where,
                List.of(message));
            case InvalidSchemaException.ERROR_CODE -> new InvalidSchemaException(message + where, null);
            default -> {
                if (status == 401 || status == 403) {
                    yield new SchemaRegistryException("schema registry refused the request" + where + ": HTTP "
                        + status + " (check basic.auth.* settings): " + message, status, code, null);
                }
                yield new SchemaRegistryException("schema registry error" + where + ": HTTP " + status
                    + ", error_code " + code + ": " + message, status, code, null);
            }
        };
    }

    private static String errorMessage(final byte[] body) {
        final String text = new String(body, StandardCharsets.UTF_8);
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static int requiredInt(final JsonNode node, final String field) {
        final JsonNode value = node.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw new SchemaRegistryException("schema registry answer lacks integer field '" + field + "': " + node);
        }
        return value.asInt();
    }

    private static String requiredText(final JsonNode node, final String field) {
        final JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new SchemaRegistryException("schema registry answer lacks text field '" + field + "'");
        }
        return value.asText();
    }

    private static String encode(final String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String stripTrailingSlash(final String path) {
        if (path == null) {
            return "";
        }
        String p = path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    private static String redact(final String url) {
        return url.replaceAll("//[^/@]*@", "//***@");
    }

    private static String stringValue(final Map<String, ?> config, final String key) {
        final Object value = config == null ? null : config.get(key);
        return value == null ? null : value.toString();
    }

    private static long longValue(final Map<String, ?> config, final String key, final long fallback) {
        final Object value = config == null ? null : config.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number number) {
            return number.longValue();
        }
        try {
            final long parsed = Long.parseLong(value.toString().trim());
            if (parsed < 0) {
                throw new IllegalArgumentException(key + " must not be negative, was " + parsed);
            }
            return parsed;
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, was '" + value + "'", e);
        }
    }
}
