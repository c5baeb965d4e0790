package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.IncompatibleSchemaException;
import io.spillway.schemas.registry.InvalidSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.RegistryClientStats;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClientConfig;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.UnknownVersionException;
import io.spillway.schemas.registry.UnsupportedSchemaTypeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST client of a Confluent-compatible registry over {@link HttpClient}.
 *
 * <p>Thread-safe. Schemas are cached by id and ids by (subject, schema) forever (ids are immutable),
 * so repeated {@link #register} / {@link #getById} calls make no request. Ids the registry answered
 * "not found" (40403) for are remembered for {@code missing.id.cache.ttl.sec} in a bounded cache.
 * Connection failures, timeouts and 5xx answers are retried with doubling backoff, moving to the next
 * URL of the list, but never past the call timeout: then a {@link SchemaRegistryUnavailableException}
 * is thrown. A TLS trust failure is not retried. Secrets (basic-auth credentials, the trust store
 * password) are kept only where they are used, and appear in no log line, message or toString.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {
    private static final Logger LOG = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT = CONTENT_TYPE + ", application/json;q=0.9";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Confluent's serde settings may carry the client's keys with this prefix too. */
    private static final String CLIENT_PREFIX = "schema.registry.";

    private final List<URI> baseUrls;
    private final AtomicInteger preferred = new AtomicInteger();
    private final HttpClient http;
    private final String authorization;
    private final Duration requestTimeout;
    private final long callTimeoutNanos;
    private final int maxRetries;
    private final long backoffMs;
    private final long backoffMaxMs;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();
    private final MissingIdCache<Integer> missingIds;
    private final MissingIdCache<java.util.UUID> missingGuids;
    private final Map<java.util.UUID, Schema> schemasByGuid = new ConcurrentHashMap<>();
    private final Map<java.util.UUID, UnsupportedSchemaTypeException> otherTypesByGuid = new ConcurrentHashMap<>();
    /** Ids of schemas that are not Avro (ids are immutable, so this is never stale); bounded by the registry's ids. */
    private final Map<Integer, UnsupportedSchemaTypeException> otherTypes = new ConcurrentHashMap<>();
    private final LongAdder requests = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder unavailable = new LongAdder();
    private final LongAdder notFound = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder missingIdCacheHits = new LongAdder();

    private RestSchemaRegistryClient(final List<URI> baseUrls, final String authorization, final SSLContext tls,
                                     final Settings settings) {
        this.baseUrls = List.copyOf(baseUrls);
        this.authorization = authorization;
        this.requestTimeout = Duration.ofMillis(Math.max(1, settings.requestTimeoutMs));
        this.callTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, settings.callTimeoutMs));
        this.maxRetries = settings.maxRetries;
        this.backoffMs = settings.backoffMs;
        this.backoffMaxMs = settings.backoffMaxMs;
        this.missingIds = new MissingIdCache<>(settings.missingTtlNanos, settings.missingCacheSize, System::nanoTime);
        this.missingGuids = new MissingIdCache<>(settings.missingTtlNanos, settings.missingCacheSize, System::nanoTime);
        final HttpClient.Builder builder = HttpClient.newBuilder()
            .connectTimeout(Duration.ofMillis(Math.max(1, Math.min(settings.connectTimeoutMs, settings.callTimeoutMs))))
            .followRedirects(HttpClient.Redirect.NEVER);
        if (tls != null) {
            builder.sslContext(tls);
        }
        this.http = builder.build();
    }

    /** Timeouts, retries and the missing-id cache, read from the client properties. */
    private record Settings(long connectTimeoutMs, long requestTimeoutMs, long callTimeoutMs, int maxRetries,
                            long backoffMs, long backoffMaxMs, long missingTtlNanos, int missingCacheSize) {
        static Settings from(final Map<String, ?> config) {
            final double ttlSeconds = doubleValue(config, SchemaRegistryClientConfig.MISSING_ID_CACHE_TTL_SEC, 30);
            return new Settings(
                longValue(config, SchemaRegistryClientConfig.CONNECT_TIMEOUT_MS, 2_000),
                longValue(config, SchemaRegistryClientConfig.REQUEST_TIMEOUT_MS, 5_000),
                longValue(config, SchemaRegistryClientConfig.CALL_TIMEOUT_MS, 8_000),
                (int) Math.min(1_000, longValue(config, SchemaRegistryClientConfig.MAX_RETRIES, 2)),
                longValue(config, SchemaRegistryClientConfig.RETRY_BACKOFF_MS, 100),
                longValue(config, SchemaRegistryClientConfig.RETRY_BACKOFF_MAX_MS, 1_000),
                (long) (ttlSeconds * 1e9),
                (int) Math.min(1_000_000, longValue(config, SchemaRegistryClientConfig.MISSING_CACHE_SIZE, 10_000)));
        }
    }

    /**
     * @param urls one URL or a comma-separated list, each http:// or https://
     * @param config keys of {@link SchemaRegistryClientConfig}
     * @throws IllegalArgumentException for malformed URLs or settings, or an unreadable trust store
     */
    public static RestSchemaRegistryClient create(final String urls, final Map<String, ?> config) {
        final String source = setting(config, SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE);
        final String userInfo = setting(config, SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO);
        final boolean credentialsFromUrl = source != null && source.trim().equalsIgnoreCase("URL");
        if (source != null && !credentialsFromUrl && !source.trim().equalsIgnoreCase("USER_INFO")) {
            throw new IllegalArgumentException(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE
                + " must be USER_INFO or URL, was '" + source + "'");
        }
        final List<URI> bases = new ArrayList<>();
        String urlCredentials = null;
        for (final String part : urls.split(",")) {
            final String trimmed = part.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            final URI uri;
            try {
                uri = URI.create(trimmed);
            } catch (final IllegalArgumentException e) {
                throw new IllegalArgumentException("malformed schema registry URL: " + redact(trimmed));
            }
            final String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("schema registry URL must be http(s)://host[:port] or mock://scope, was "
                    + redact(trimmed));
            }
            if (uri.getRawUserInfo() != null && urlCredentials == null) {
                urlCredentials = URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8);
            }
            bases.add(URI.create(scheme + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + stripTrailingSlash(uri.getRawPath())));
        }
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("schema registry URL is empty");
        }
        final String credentials = credentials(credentialsFromUrl, source != null, userInfo, urlCredentials);
        final String authorization = credentials == null ? null
            : "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
        return new RestSchemaRegistryClient(bases, authorization, trust(config), Settings.from(config));
    }

    private static String credentials(final boolean fromUrl, final boolean sourceGiven, final String userInfo,
                                      final String urlCredentials) {
        final String credentials;
        if (fromUrl) {
            if (urlCredentials == null) {
                throw new IllegalArgumentException(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE
                    + "=URL but no URL carries user:password@");
            }
            credentials = urlCredentials;
        } else if (userInfo != null && !userInfo.isBlank()) {
            if (urlCredentials != null) {
                LOG.warn("Schema registry URL carries credentials, which are ignored: {} is set",
                    SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO);
            }
            credentials = userInfo;
        } else if (urlCredentials != null && !sourceGiven) {
            // Confluent's default source is URL, so accept them; but a URL is printed and logged in many places.
            LOG.warn("Schema registry credentials taken from the URL; prefer {}=USER_INFO with {} so they stay out"
                    + " of URLs, command lines and logs", SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE,
                SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO);
            credentials = urlCredentials;
        } else {
            credentials = null;
        }
        if (credentials != null && !credentials.contains(":")) {
            throw new IllegalArgumentException("basic auth credentials must be user:password");
        }
        return credentials;
    }

    /** @return a TLS context trusting the configured trust store, or null for the JDK's default trust */
    private static SSLContext trust(final Map<String, ?> config) {
        final String location = setting(config, SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION);
        if (location == null || location.isBlank()) {
            return null;
        }
        final String password = setting(config, SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD);
        final String configuredType = setting(config, SchemaRegistryClientConfig.SSL_TRUSTSTORE_TYPE);
        final String type = configuredType == null || configuredType.isBlank() ? "PKCS12" : configuredType.trim();
        try (InputStream in = Files.newInputStream(Path.of(location.trim()))) {
            final KeyStore store = KeyStore.getInstance(type);
            store.load(in, password == null ? null : password.toCharArray());
            final TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (final IOException | GeneralSecurityException | RuntimeException e) {
            // The exception's own message names what failed (a wrong password, a missing file), never the password.
            throw new IllegalArgumentException("cannot load the trust store " + location.trim() + " (type " + type
                + ") named by " + SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION + ": " + e.getMessage(), e);
        }
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
        missingIds.forget(id);
        return id;
    }

    @Override
    public Schema getById(final int id) {
        return fetch(id, id, "schema id " + id, "/schemas/ids/" + id, schemasById, otherTypes, missingIds, false);
    }

    @Override
    public Schema getByGuid(final java.util.UUID guid) {
        return fetch(guid, -1, "schema GUID " + guid, "/schemas/guids/" + guid, schemasByGuid, otherTypesByGuid,
            missingGuids, true);
    }

    /**
     * A schema by id or GUID: cached, a type other than Avro remembered, a "not found" remembered for a while.
     *
     * @param plain404IsUnknown a 404 without the registry's "schema not found" code means not found too (a
     *        registry that does not have the endpoint: GUIDs came with Confluent 8.0)
     */
    private <K> Schema fetch(final K key, final int id, final String what, final String path,
                             final Map<K, Schema> cache, final Map<K, UnsupportedSchemaTypeException> others,
                             final MissingIdCache<K> missing, final boolean plain404IsUnknown) {
        final Schema cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        final UnsupportedSchemaTypeException other = others.get(key);
        if (other != null) {
            throw new UnsupportedSchemaTypeException(id, other.schemaType(), other.schemaText());
        }
        if (missing.isMissing(key)) {
            missingIdCacheHits.increment();
            throw new UnknownSchemaException(what + " not found (the registry said so less than "
                + missing.ttlSeconds() + " s ago)");
        }
        final JsonNode answer;
        try {
            answer = send("GET", path, null);
        } catch (final UnknownSchemaException e) {
            missing.markMissing(key);
            throw e;
        } catch (final SchemaRegistryException e) {
            if (!plain404IsUnknown || e.httpStatus() != 404) {
                throw e;
            }
            missing.markMissing(key);
            throw new UnknownSchemaException(what + " not found: the registry does not serve " + path
                + " (a registry older than Confluent 8.0?): " + e.getMessage());
        }
        final String type = answer.path("schemaType").asText("AVRO").toUpperCase(Locale.ROOT);
        if (!type.equals("AVRO")) {
            final UnsupportedSchemaTypeException notAvro = new UnsupportedSchemaTypeException(id, type,
                answer.path("schema").asText(null));
            others.putIfAbsent(key, notAvro);
            throw notAvro;
        }
        final Schema schema = parseWithReferences(answer, what);
        final Schema raced = cache.putIfAbsent(key, schema);
        return raced == null ? schema : raced;
    }

    /**
     * Parses a schema answer, first parsing the schemas its {@code references} name (each fetched by subject and
     * version, with its own references before it) into the same parser, so its named types resolve.
     */
    private Schema parseWithReferences(final JsonNode answer, final String what) {
        final JsonNode references = answer.path("references");
        if (!references.isArray() || references.isEmpty()) {
            return AvroSchemas.parse(requiredText(answer, "schema"));
        }
        final Schema.Parser parser = new Schema.Parser().setValidateDefaults(true);
        addReferences(parser, references, new java.util.HashSet<>(), 0, what);
        try {
            return parser.parse(requiredText(answer, "schema"));
        } catch (final RuntimeException e) {
            throw new InvalidSchemaException("invalid Avro schema with references (" + what + "): " + e.getMessage(), e);
        }
    }

    /** Most nested references followed: a cycle or a hostile chain ends here. */
    private static final int MAX_REFERENCE_DEPTH = 32;

    private void addReferences(final Schema.Parser parser, final JsonNode references, final java.util.Set<String> parsed,
                               final int depth, final String what) {
        if (depth >= MAX_REFERENCE_DEPTH) {
            throw new InvalidSchemaException("schema references of " + what + " nest deeper than "
                + MAX_REFERENCE_DEPTH, null);
        }
        for (final JsonNode reference : references) {
            final String subject = requiredText(reference, "subject");
            final int version = requiredInt(reference, "version");
            if (!parsed.add(subject + "\u0000" + version)) {
                continue; // a type referenced twice is parsed once
            }
            final JsonNode referenced;
            try {
                referenced = send("GET", "/subjects/" + encode(subject) + "/versions/" + version, null);
            } catch (final UnknownSubjectException | UnknownVersionException e) {
                throw new UnknownSchemaException(what + " references " + subject + " version " + version
                    + ", which the registry does not have");
            }
            addReferences(parser, referenced.path("references"), parsed, depth + 1, what);
            try {
                parser.parse(requiredText(referenced, "schema"));
            } catch (final RuntimeException e) {
                throw new InvalidSchemaException("invalid referenced Avro schema " + subject + " version " + version
                    + " (" + what + "): " + e.getMessage(), e);
            }
        }
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
            final Schema known = schemasById.get(id);
            // parsed outside the map: following references makes requests
            final Schema schema = known != null ? known : Objects.requireNonNullElse(schemasById.putIfAbsent(id,
                parseWithReferences(answer, subject + " version " + version)), schemasById.get(id));
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
    public RegistryClientStats stats() {
        return new RegistryClientStats(requests.sum(), retries.sum(), unavailable.sum(), notFound.sum(), errors.sum(),
            missingIdCacheHits.sum());
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
     * Sends one request with retries, within the call timeout, and counts the outcome.
     *
     * @return the parsed 2xx body
     */
    private JsonNode send(final String method, final String pathAndQuery, final JsonNode body) {
        try {
            return sendWithRetries(method, pathAndQuery, body);
        } catch (final SchemaRegistryUnavailableException e) {
            unavailable.increment();
            throw e;
        } catch (final SchemaRegistryException e) {
            if (e.httpStatus() == 404) {
                notFound.increment();
            } else {
                errors.increment();
            }
            throw e;
        }
    }

    private JsonNode sendWithRetries(final String method, final String pathAndQuery, final JsonNode body) {
        final byte[] payload = body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8);
        final int start = Math.floorMod(preferred.get(), baseUrls.size());
        final long deadline = System.nanoTime() + callTimeoutNanos;
        Exception lastFailure = null;
        int lastStatus = -1;
        String lastMessage = "no attempt fitted in the call timeout";
        int attempts = 0;
        for (int attempt = 0; attempt <= maxRetries; attempt++) {
            if (attempt > 0) {
                final long backoff = Math.min(backoffMaxMs, backoffMs << Math.min(attempt - 1, 20));
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) >= deadline) {
                    break;
                }
                pause(backoff);
                retries.increment();
            }
            final long remainingNanos = deadline - System.nanoTime();
            if (remainingNanos <= 0) {
                break;
            }
            final int index = (start + attempt) % baseUrls.size();
            final URI base = baseUrls.get(index);
            attempts++;
            final HttpResponse<byte[]> response;
            try {
                response = exchange(base, method, pathAndQuery, payload, remainingNanos);
            } catch (final IOException e) {
                if (isTrustFailure(e)) {
                    throw new SchemaRegistryException("TLS handshake with schema registry " + base + " failed: "
                        + e.getMessage() + " (does " + SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION
                        + " hold the registry's certificate or CA?)", -1, -1, e);
                }
                lastFailure = e;
                lastStatus = -1;
                lastMessage = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + plainHttpHint(base, e);
                LOG.debug("Schema registry {} {} {} failed (attempt {}): {}", base, method, pathAndQuery,
                    attempt + 1, lastMessage);
                continue;
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
            + pathAndQuery + " after " + attempts + " attempt" + (attempts == 1 ? "" : "s") + " in at most "
            + TimeUnit.NANOSECONDS.toMillis(callTimeoutNanos) + " ms; last failure: " + lastMessage,
            lastStatus, lastFailure);
    }

    /** One HTTP exchange, bounded by the time left to the call (the future is cancelled when it passes). */
    private HttpResponse<byte[]> exchange(final URI base, final String method, final String pathAndQuery,
                                          final byte[] payload, final long remainingNanos) throws IOException {
        final Duration timeout = requestTimeout.compareTo(Duration.ofNanos(remainingNanos)) < 0
            ? requestTimeout : Duration.ofNanos(remainingNanos);
        final HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(timeout)
            .header("Accept", ACCEPT)
            .method(method, payload == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(payload));
        if (payload != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        requests.increment();
        final CompletableFuture<HttpResponse<byte[]>> future = http.sendAsync(request.build(),
            HttpResponse.BodyHandlers.ofByteArray());
        try {
            return future.get(remainingNanos, TimeUnit.NANOSECONDS);
        } catch (final TimeoutException e) {
            future.cancel(true);
            throw new IOException("no answer within the call timeout", e);
        } catch (final InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new SchemaRegistryUnavailableException("interrupted while calling schema registry " + base, -1, e);
        } catch (final CancellationException e) {
            throw new IOException("request cancelled", e);
        } catch (final ExecutionException e) {
            final Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(String.valueOf(cause), cause);
        }
    }

    private static boolean isTrustFailure(final IOException e) {
        if (!(e instanceof SSLHandshakeException)) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof CertPathValidatorException) {
                return true;
            }
        }
        return false;
    }

    private static String plainHttpHint(final URI base, final IOException e) {
        final String message = String.valueOf(e.getMessage());
        if (base.getScheme().equals("http") && (message.contains("received no bytes") || message.contains("reset"))) {
            return " (if the registry serves HTTPS, use an https:// URL)";
        }
        return "";
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

    /** @return the setting under its name, or under the name with Confluent's client prefix, or null */
    private static Object raw(final Map<String, ?> config, final String key) {
        if (config == null) {
            return null;
        }
        final Object value = config.get(key);
        return value != null || key.startsWith(CLIENT_PREFIX) ? value : config.get(CLIENT_PREFIX + key);
    }

    private static String setting(final Map<String, ?> config, final String key) {
        final Object value = raw(config, key);
        return value == null ? null : value.toString();
    }

    private static double doubleValue(final Map<String, ?> config, final String key, final double fallback) {
        final Object value = raw(config, key);
        if (value == null) {
            return fallback;
        }
        try {
            final double parsed = value instanceof Number number ? number.doubleValue()
                : Double.parseDouble(value.toString().trim());
            if (!(parsed >= 0) || parsed > 1e7) {
                throw new IllegalArgumentException(key + " must be between 0 and 1e7, was " + value);
            }
            return parsed;
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, was '" + value + "'", e);
        }
    }

    private static long longValue(final Map<String, ?> config, final String key, final long fallback) {
        final Object value = raw(config, key);
        if (value == null) {
            return fallback;
        }
        final long parsed;
        try {
            parsed = value instanceof Number number ? number.longValue() : Long.parseLong(value.toString().trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, was '" + value + "'", e);
        }
        if (parsed < 0) {
            throw new IllegalArgumentException(key + " must not be negative, was " + parsed);
        }
        return parsed;
    }
}
