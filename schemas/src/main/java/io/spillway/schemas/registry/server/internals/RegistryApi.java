package io.spillway.schemas.registry.server.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.InvalidSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.internals.AvroSchemas;
import io.spillway.schemas.registry.internals.SchemaStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the Confluent REST subset to a {@link SchemaStore}. Stateless apart from the store, so one
 * instance serves all server threads.
 */
public final class RegistryHandler implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryHandler.class);
    /** Bound on request bodies: a schema larger than this is surely a mistake. */
    private static final int MAX_BODY_BYTES = 8 * 1024 * 1024;

    private final SchemaStore store;

    /** @param store the registry state; not closed by the handler */
    public RegistryHandler(final SchemaStore store) {
        this.store = store;
    }

    @Override
    public void handle(final HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                route(exchange);
            } catch (final HttpError e) {
                Responses.error(exchange, e.status, e.errorCode, e.getMessage());
            } catch (final SchemaRegistryException e) {
                final int status = e.httpStatus() > 0 ? e.httpStatus() : 500;
                Responses.error(exchange, status, e.errorCode() > 0 ? e.errorCode() : 50001, e.getMessage());
            } catch (final RuntimeException e) {
                LOG.error("Schema registry failed on {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                Responses.error(exchange, 500, 50001, "internal error: " + e);
            }
        }
    }

    private void route(final HttpExchange exchange) throws IOException {
        final String method = exchange.getRequestMethod();
        final String rawPath = exchange.getRequestURI().getRawPath();
        final List<String> path = segments(rawPath);
        final Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        final int n = path.size();
        if (n == 0) {
            requireMethod(method, rawPath, "GET");
            Responses.json(exchange, 200, Map.of());
            return;
        }
        switch (path.get(0)) {
            case "subjects" -> subjects(exchange, method, rawPath, path, query);
            case "schemas" -> {
                if (n >= 3 && n <= 4 && path.get(1).equals("ids") && (n == 3 || path.get(3).equals("schema"))) {
                    requireMethod(method, rawPath, "GET");
                    final String text = schemaById(path.get(2));
                    if (n == 3) {
                        Responses.json(exchange, 200, Map.of("schema", text));
                    } else {
                        Responses.text(exchange, 200, "application/json", text);
                    }
                    return;
                }
                throw HttpError.notFound(rawPath);
            }
            case "compatibility" -> {
                if (n >= 4 && n <= 5 && path.get(1).equals("subjects") && path.get(3).equals("versions")) {
                    requireMethod(method, rawPath, "POST");
                    compatibility(exchange, path.get(2), n == 5 ? path.get(4) : null, query);
                    return;
                }
                throw HttpError.notFound(rawPath);
            }
            case "config" -> {
                if (n == 1) {
                    config(exchange, method, rawPath, null, query);
                } else if (n == 2) {
                    config(exchange, method, rawPath, path.get(1), query);
                } else {
                    throw HttpError.notFound(rawPath);
                }
            }
            default -> throw HttpError.notFound(rawPath);
        }
    }

    private void subjects(final HttpExchange exchange, final String method, final String rawPath,
                          final List<String> path, final Map<String, String> query) throws IOException {
        final int n = path.size();
        if (n == 1) {
            requireMethod(method, rawPath, "GET");
            Responses.json(exchange, 200, store.subjects());
            return;
        }
        final String subject = path.get(1);
        if (n == 2) {
            requireMethod(method, rawPath, "POST", "DELETE");
            if (method.equals("DELETE")) {
                final List<Integer> deleted = store.deleteSubject(subject);
                if (deleted.isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                LOG.info("Soft-deleted subject '{}' versions {}", subject, deleted);
                Responses.json(exchange, 200, deleted);
                return;
            }
            final Schema schema = schemaFromBody(exchange);
            final Optional<RegisteredSchema> found = store.lookup(subject, schema);
            if (found.isEmpty()) {
                if (store.versions(subject).isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                throw new UnknownSchemaException("schema not found under subject '" + subject + "'");
            }
            Responses.json(exchange, 200, describe(found.get()));
            return;
        }
        if (!path.get(2).equals("versions") || n > 5 || (n == 5 && !path.get(4).equals("schema"))) {
            throw HttpError.notFound(rawPath);
        }
        if (n == 3) {
            requireMethod(method, rawPath, "GET", "POST");
            if (method.equals("GET")) {
                final List<Integer> versions = store.versions(subject);
                if (versions.isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                Responses.json(exchange, 200, versions);
                return;
            }
            final Schema schema = schemaFromBody(exchange);
            final RegisteredSchema registered = store.register(subject, schema);
            LOG.debug("Subject '{}' version {} has schema id {}", subject, registered.version(), registered.id());
            Responses.json(exchange, 200, Map.of("id", registered.id()));
            return;
        }
        requireMethod(method, rawPath, "GET");
        final RegisteredSchema version = store.version(subject, checkedVersion(path.get(3)));
        if (n == 4) {
            Responses.json(exchange, 200, describe(version));
        } else {
            Responses.text(exchange, 200, "application/json", AvroSchemas.canonicalText(version.schema()));
        }
    }

    private void compatibility(final HttpExchange exchange, final String subject, final String version,
                               final Map<String, String> query) throws IOException {
        final Schema schema = schemaFromBody(exchange);
        final List<String> problems = version == null
            ? store.incompatibilities(subject, schema)
            : store.incompatibilitiesWithVersion(subject, checkedVersion(version), schema);
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("is_compatible", problems.isEmpty());
        if ("true".equalsIgnoreCase(query.get("verbose"))) {
            body.put("messages", problems);
        }
        Responses.json(exchange, 200, body);
    }

    private void config(final HttpExchange exchange, final String method, final String rawPath, final String subject,
                        final Map<String, String> query) throws IOException {
        requireMethod(method, rawPath, "GET", "PUT", "DELETE");
        switch (method) {
            case "GET" -> {
                final CompatibilityLevel level;
                if (subject == null) {
                    level = store.globalLevel();
                } else if ("true".equalsIgnoreCase(query.get("defaultToGlobal"))) {
                    level = store.effectiveLevel(subject);
                } else {
                    level = store.subjectLevel(subject).orElseThrow(() -> noSubjectLevel(subject));
                }
                Responses.json(exchange, 200, Map.of("compatibilityLevel", level.name()));
            }
            case "PUT" -> {
                final JsonNode body = jsonBody(exchange);
                final CompatibilityLevel level;
                try {
                    level = CompatibilityLevel.parse(body.path("compatibility").asText(null));
                } catch (final IllegalArgumentException e) {
                    throw new HttpError(422, 42203, "Invalid compatibility level: " + e.getMessage());
                }
                store.setLevel(subject, level);
                LOG.info("Compatibility of {} set to {}", subject == null ? "the registry" : "subject '" + subject + "'",
                    level);
                Responses.json(exchange, 200, Map.of("compatibility", level.name()));
            }
            default -> {
                if (subject == null) {
                    throw HttpError.methodNotAllowed(method, rawPath);
                }
                final CompatibilityLevel previous = store.clearLevel(subject).orElseThrow(() -> noSubjectLevel(subject));
                Responses.json(exchange, 200, Map.of("compatibilityLevel", previous.name()));
            }
        }
    }

    private static HttpError noSubjectLevel(final String subject) {
        return new HttpError(404, 40408, "Subject '" + subject
            + "' does not have subject-level compatibility configured (use ?defaultToGlobal=true)");
    }

    private String schemaById(final String idText) {
        final int id;
        try {
            id = Integer.parseInt(idText);
        } catch (final NumberFormatException e) {
            throw new UnknownSchemaException("schema id " + idText + " not found");
        }
        return AvroSchemas.canonicalText(store.schemaById(id));
    }

    private static Map<String, Object> describe(final RegisteredSchema registered) {
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("subject", registered.subject());
        body.put("version", registered.version());
        body.put("id", registered.id());
        body.put("schema", AvroSchemas.canonicalText(registered.schema()));
        return body;
    }

    private static String checkedVersion(final String version) {
        if ("latest".equals(version) || "-1".equals(version)) {
            return version;
        }
        try {
            if (Integer.parseInt(version) >= 1) {
                return version;
            }
        } catch (final NumberFormatException e) {
            // fall through to the error
        }
        throw new HttpError(422, 42202, "The specified version '" + version
            + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    }

    private static Schema schemaFromBody(final HttpExchange exchange) throws IOException {
        final JsonNode body = jsonBody(exchange);
        final String type = body.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new InvalidSchemaException("unsupported schemaType '" + type + "': this registry stores AVRO only", null);
        }
        final JsonNode references = body.get("references");
        if (references != null && references.isArray() && !references.isEmpty()) {
            throw new InvalidSchemaException("schema references are not supported by this registry", null);
        }
        final JsonNode schema = body.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw new InvalidSchemaException("request body lacks the string field \"schema\"", null);
        }
        return AvroSchemas.parse(schema.asText());
    }

    private static JsonNode jsonBody(final HttpExchange exchange) throws IOException {
        final byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new HttpError(413, 413, "request body larger than " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            throw new HttpError(400, 400, "request body is empty; expected JSON");
        }
        try {
            final JsonNode node = Responses.JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new HttpError(400, 400, "request body must be a JSON object");
            }
            return node;
        } catch (final JsonProcessingException e) {
            throw new HttpError(400, 400, "malformed JSON body: " + e.getOriginalMessage());
        }
    }

    private static void requireMethod(final String method, final String rawPath, final String... allowed) {
        for (final String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw HttpError.methodNotAllowed(method, rawPath);
    }

    private static List<String> segments(final String rawPath) {
        final List<String> out = new ArrayList<>();
        for (final String part : rawPath.split("/")) {
            if (!part.isEmpty()) {
                try {
                    out.add(URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8));
                } catch (final IllegalArgumentException e) {
                    throw new HttpError(400, 400, "malformed percent-encoding in path: " + rawPath);
                }
            }
        }
        return out;
    }

    private static Map<String, String> query(final String rawQuery) {
        final Map<String, String> out = new HashMap<>();
        if (rawQuery == null) {
            return out;
        }
        for (final String pair : rawQuery.split("&")) {
            final int eq = pair.indexOf('=');
            try {
                final String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                out.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (final IllegalArgumentException e) {
                throw new HttpError(400, 400, "malformed query string: " + rawQuery);
            }
        }
        return out;
    }
}
