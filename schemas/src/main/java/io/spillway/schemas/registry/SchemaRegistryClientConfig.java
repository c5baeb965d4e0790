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

    /** {@code user:password} for {@code USER_INFO}; never logged. */
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";

    /** Connect timeout in milliseconds (default 5000). */
    public static final String CONNECT_TIMEOUT_MS = "schema.registry.connect.timeout.ms";

    /** Per-request timeout in milliseconds (default 10000). */
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";

    /** Retries after the first attempt on connection errors, timeouts and 5xx (default 3). */
    public static final String MAX_RETRIES = "schema.registry.max.retries";

    /** First retry backoff in milliseconds, doubled each retry (default 100). */
    public static final String RETRY_BACKOFF_MS = "schema.registry.retry.backoff.ms";

    /** Cap of the retry backoff in milliseconds (default 2000). */
    public static final String RETRY_BACKOFF_MAX_MS = "schema.registry.retry.backoff.max.ms";
}
