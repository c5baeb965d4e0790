package io.spillway.schemas.serde;

/** Keys the serdes read in {@code configure} (Confluent's names), besides the client keys of {@code SchemaRegistryClientConfig}. */
public final class SerdeConfig {
    private SerdeConfig() {
    }

    /** Registry URL(s); required unless a client was passed to the constructor. */
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    /** Whether the serializer registers the record's schema under the subject (default true). */
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";

    /**
     * Whether the serializer writes with the subject's latest version instead of the record's own
     * schema (default false). The latest version must be able to read the record's schema.
     */
    public static final String USE_LATEST_VERSION = "use.latest.version";
}
