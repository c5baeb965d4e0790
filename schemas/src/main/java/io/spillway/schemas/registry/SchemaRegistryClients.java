package io.spillway.schemas.registry;

import io.spillway.schemas.registry.internals.MockSchemaRegistryClient;
import io.spillway.schemas.registry.internals.RestSchemaRegistryClient;
import java.util.Map;

/** Creates {@link SchemaRegistryClient}s from a URL and client properties. */
public final class SchemaRegistryClients {
    /** URL prefix selecting the in-memory registry. */
    public static final String MOCK_PREFIX = "mock://";

    private SchemaRegistryClients() {
    }

    /**
     * Creates a client.
     *
     * <ul>
     *   <li>{@code mock://<scope>}: an in-memory registry shared by every client of that scope name in
     *       this JVM (unit tests only; reset with {@link #dropMockScope}).</li>
     *   <li>{@code http://host:port} or {@code https://...}, or a comma-separated list of them: a REST
     *       client of a Confluent-compatible registry, failing over between the URLs. Reads the keys of
     *       {@link SchemaRegistryClientConfig} (basic auth, timeouts, retries) from {@code config}.</li>
     * </ul>
     *
     * @param url registry URL(s), not null
     * @param config client properties, not null (may be empty); values may be strings or numbers
     * @return a new client the caller owns and closes
     * @throws IllegalArgumentException for a missing or malformed URL or bad settings
     */
    public static SchemaRegistryClient create(final String url, final Map<String, ?> config) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("schema registry URL is missing (set "
                + SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL + ")");
        }
        final String trimmed = url.trim();
        if (trimmed.startsWith(MOCK_PREFIX)) {
            if (trimmed.contains(",")) {
                throw new IllegalArgumentException("a mock:// schema registry URL cannot be combined with others: " + url);
            }
            return MockSchemaRegistryClient.forScope(trimmed.substring(MOCK_PREFIX.length()));
        }
        return RestSchemaRegistryClient.create(trimmed, config);
    }

    /**
     * Forgets a {@code mock://} scope so the next client of that name starts empty.
     *
     * @param scope the scope name (the part after {@code mock://})
     */
    public static void dropMockScope(final String scope) {
        MockSchemaRegistryClient.dropScope(scope);
    }
}
