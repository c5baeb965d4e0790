package io.spillway.schemas.serde.internals;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.serde.SerdeConfig;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of a serializer or deserializer, read from Kafka-style configs.
 *
 * @param autoRegister whether the serializer registers schemas
 * @param useLatestVersion whether the serializer writes with the subject's latest version
 */
public record SerdeSettings(boolean autoRegister, boolean useLatestVersion) {
    /** Defaults: auto-register, own schema. */
    public static final SerdeSettings DEFAULTS = new SerdeSettings(true, false);

    /** @return the settings in {@code configs}, defaults for absent keys */
    public static SerdeSettings from(final Map<String, ?> configs) {
        return new SerdeSettings(bool(configs, SerdeConfig.AUTO_REGISTER_SCHEMAS, true),
            bool(configs, SerdeConfig.USE_LATEST_VERSION, false));
    }

    /**
     * Creates a registry client from {@code schema.registry.url} and the client keys in {@code configs}.
     *
     * @throws ConfigException when the URL is missing or the client settings are invalid
     */
    public static SchemaRegistryClient client(final Map<String, ?> configs) {
        final Object url = configs.get(SerdeConfig.SCHEMA_REGISTRY_URL);
        if (url == null || url.toString().isBlank()) {
            throw new ConfigException("Missing required configuration \"" + SerdeConfig.SCHEMA_REGISTRY_URL
                + "\" which has no default value (e.g. http://localhost:8081 or mock://<scope> in tests)");
        }
        try {
            return SchemaRegistryClients.create(url.toString(), configs);
        } catch (final IllegalArgumentException e) {
            throw new ConfigException("Invalid schema registry settings: " + e.getMessage());
        }
    }

    private static boolean bool(final Map<String, ?> configs, final String key, final boolean fallback) {
        final Object value = configs.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        final String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new ConfigException(key, value, "must be true or false");
    }
}
