package io.spillway.schemas.registry;

/**
 * Configuration keys read by {@link SchemaRegistryClients#create}. The names of the URL and
 * basic-auth keys are Confluent's, so the same client properties work with either implementation.
 */
public final class SchemaRegistryClientConfig {
    private SchemaRegistryClientConfig() {
    }

    /** Registry URL(s): {@code http(s)://host:port[,http(s)://...]} or {@code mock://<scope>}. */
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    /** Where basic-auth credentials come from: {@code USER_INFO} (the default when user info is set) or {@code URL}. */
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";

    /**
     * {@code user:password} for {@code USER_INFO} (also read as {@code schema.registry.basic.auth.user.info});
     * never logged, never part of a message or {@code toString()}. The recommended way to pass credentials:
     * user info inside {@link #SCHEMA_REGISTRY_URL} is accepted (with a warning) but ends up wherever the URL
     * is shown.
     */
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";

    /** Connect timeout in milliseconds (default 2000). */
    public static final String CONNECT_TIMEOUT_MS = "schema.registry.connect.timeout.ms";

    /** Timeout of one HTTP request in milliseconds (default 5000). */
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";

    /**
     * Bound in milliseconds on one client call, retries and backoff included (default 8000): when it
     * passes, the call fails with {@link SchemaRegistryUnavailableException}. Keeps a caller such as a
     * stream thread from blocking for minutes inside one call.
     */
    public static final String CALL_TIMEOUT_MS = "schema.registry.call.timeout.ms";

    /** Retries after the first attempt on connection errors, timeouts and 5xx, within the call timeout (default 2). */
    public static final String MAX_RETRIES = "schema.registry.max.retries";

    /** First retry backoff in milliseconds, doubled each retry (default 100). */
    public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";

    /** Cap of the retry backoff in milliseconds (default 1000). */
    public static final String RETRY_BACKOFF_MAX_MS = "schema.registry.retry.backoff.max.ms";

    /**
     * Seconds (may be fractional) to remember that the registry answered "not found" for a schema id
     * (default 30; 0 turns the cache off). Confluent's name.
     */
    public static final String MISSING_ID_CACHE_TTL_SEC = "missing.id.cache.ttl.sec";

    /** How many unknown schema ids to remember at most, the oldest forgotten first (default 10000). Confluent's name. */
    public static final String MISSING_CACHE_SIZE = "missing.cache.size";

    /** Trust store for {@code https://} registries, e.g. one holding the registry's CA (default: the JDK's). */
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";

    /** Password of the trust store, if it has one; never logged. */
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";

    /** Type of the trust store: {@code PKCS12} (default) or {@code JKS}. */
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
}
