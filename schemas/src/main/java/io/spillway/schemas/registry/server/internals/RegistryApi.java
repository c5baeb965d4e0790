package io.spillway.schemas.registry.server.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.InvalidSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.internals.AvroSchemas;
import io.spillway.schemas.registry.internals.SchemaGuids;
import io.spillway.schemas.registry.internals.SchemaStore;
import io.spillway.schemas.registry.internals.SubjectNames;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Confluent REST subset over a {@link SchemaStore}, free of any HTTP server: a request's method,
 * path, query, content type and body in, an {@link Answer} out. Stateless apart from the store, so one
 * instance serves all server threads. Every failure becomes a Confluent-style JSON error; only a bug
 * gives a 500, and its details go to the log, not to the client.
 */
public final class RegistryApi {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryApi.class);
    /** Media types a body may declare (Confluent's, plain JSON, and what some clients send by default). */
    private static final Set<String> BODY_TYPES = Set.of("application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json", "application/json", "application/octet-stream");
    private static final int MAX_ECHOED_PATH = 200;

    private final SchemaStore store;

    /** @param store the registry state; not closed by this object */
    public RegistryApi(final SchemaStore store) {
        this.store = store;
    }

    /** @return whether requests with this method carry a body the API reads */
    public static boolean readsBody(final String method) {
        return method.equals("POST") || method.equals("PUT");
    }

    /**
     * Answers one request. Blocks while the store forces a change to disk.
     *
     * @param method the HTTP method
     * @param rawPath the path, still percent-encoded
     * @param rawQuery the query string, still encoded, or null
     * @param contentType the Content-Type header, or null
     * @param body the request body when {@link #readsBody} says so (may be empty), else null
     * @return the answer, never null
     */
    public Answer answer(final String method, final String rawPath, final String rawQuery, final String contentType,
                         final byte[] body) {
        try {
            final Request request = new Request(method, rawPath == null || rawPath.isEmpty() ? "/" : rawPath,
                rawQuery, contentType, body);
            return route(request);
        } catch (final HttpError e) {
            return Answer.error(e.status, e.errorCode, e.getMessage());
        } catch (final SchemaRegistryException e) {
            final int status = e.httpStatus() > 0 ? e.httpStatus() : 500;
            return Answer.error(status, e.errorCode() > 0 ? e.errorCode() : 50001, e.getMessage());
        } catch (final RuntimeException e) {
            LOG.error("Schema registry failed on {} {}", method, abbreviate(rawPath), e);
            return Answer.error(500, 50001, "internal error (see the registry's log)");
        }
    }

    /** A request as the routes see it. */
    private record Request(String method, String rawPath, String rawQuery, String contentType, byte[] body) {
    }

    private Answer route(final Request request) {
        final String method = request.method();
        final String rawPath = request.rawPath();
        final List<String> path = segments(rawPath);
        final Map<String, String> query = query(request.rawQuery());
        final int n = path.size();
        if (n == 0) {
            requireMethod(method, rawPath, "GET");
            return Answer.json(200, Map.of());
        }
        switch (path.get(0)) {
            case "subjects" -> {
                return subjects(request, path, query);
            }
            case "schemas" -> {
                if (n >= 3 && n <= 4 && path.get(1).equals("ids") && (n == 3 || path.get(3).equals("schema"))) {
                    requireMethod(method, rawPath, "GET");
                    final Schema schema = schemaById(path.get(2));
                    final String text = AvroSchemas.canonicalText(schema);
                    return n == 3 ? Answer.json(200, Map.of("schema", text, "guid", SchemaGuids.of(schema).toString()))
                        : Answer.text(200, "application/json", text);
                }
                if (n >= 3 && n <= 4 && path.get(1).equals("guids") && (n == 3 || path.get(3).equals("schema"))) {
                    // Confluent 8's look-up of the GUIDs its newer serializers carry in record headers
                    requireMethod(method, rawPath, "GET");
                    final Schema schema = store.schemaById(store.idByGuid(guid(path.get(2))));
                    final String text = AvroSchemas.canonicalText(schema);
                    return n == 3 ? Answer.json(200, Map.of("schema", text, "schemaType", "AVRO"))
                        : Answer.text(200, "application/json", text);
                }
                throw notFound(rawPath);
            }
            case "compatibility" -> {
                if (n >= 4 && n <= 5 && path.get(1).equals("subjects") && path.get(3).equals("versions")) {
                    requireMethod(method, rawPath, "POST");
                    return compatibility(request, path.get(2), n == 5 ? path.get(4) : null, query);
                }
                throw notFound(rawPath);
            }
            case "config" -> {
                if (n == 1) {
                    return config(request, null, query);
                }
                if (n == 2) {
                    return config(request, path.get(1), query);
                }
                throw notFound(rawPath);
            }
            default -> throw notFound(rawPath);
        }
    }

    private Answer subjects(final Request request, final List<String> path, final Map<String, String> query) {
        final String method = request.method();
        final String rawPath = request.rawPath();
        final int n = path.size();
        if (n == 1) {
            requireMethod(method, rawPath, "GET");
            return Answer.json(200, store.subjects());
        }
        final String subject = path.get(1);
        if (n == 2) {
            requireMethod(method, rawPath, "POST", "DELETE");
            if (method.equals("DELETE")) {
                final List<Integer> deleted = store.deleteSubject(subject);
                if (deleted.isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                LOG.info("Soft-deleted subject {} versions {}", SubjectNames.printable(subject), deleted);
                return Answer.json(200, deleted);
            }
            final Schema schema = schemaFromBody(request);
            final Optional<RegisteredSchema> found = store.lookup(subject, schema);
            if (found.isEmpty()) {
                if (store.versions(subject).isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                throw new UnknownSchemaException("schema not found under subject " + SubjectNames.printable(subject));
            }
            return Answer.json(200, describe(found.get()));
        }
        if (!path.get(2).equals("versions") || n > 5 || (n == 5 && !path.get(4).equals("schema"))) {
            throw notFound(rawPath);
        }
        if (n == 3) {
            requireMethod(method, rawPath, "GET", "POST");
            if (method.equals("GET")) {
                final List<Integer> versions = store.versions(subject);
                if (versions.isEmpty()) {
                    throw UnknownSubjectException.of(subject);
                }
                return Answer.json(200, versions);
            }
            final Schema schema = schemaFromBody(request);
            final RegisteredSchema registered = store.register(subject, schema);
            LOG.debug("Subject {} version {} has schema id {}", SubjectNames.printable(subject), registered.version(),
                registered.id());
            return Answer.json(200, Map.of("id", registered.id()));
        }
        requireMethod(method, rawPath, "GET");
        final RegisteredSchema version = store.version(subject, checkedVersion(path.get(3)));
        return n == 4 ? Answer.json(200, describe(version))
            : Answer.text(200, "application/json", AvroSchemas.canonicalText(version.schema()));
    }

    private Answer compatibility(final Request request, final String subject, final String version,
                                 final Map<String, String> query) {
        final Schema schema = schemaFromBody(request);
        final List<String> problems = version == null
            ? store.incompatibilities(subject, schema)
            : store.incompatibilitiesWithVersion(subject, checkedVersion(version), schema);
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("is_compatible", problems.isEmpty());
        if ("true".equalsIgnoreCase(query.get("verbose"))) {
            body.put("messages", problems);
        }
        return Answer.json(200, body);
    }

    private Answer config(final Request request, final String subject, final Map<String, String> query) {
        final String method = request.method();
        requireMethod(method, request.rawPath(), "GET", "PUT", "DELETE");
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
                return Answer.json(200, Map.of("compatibilityLevel", level.name()));
            }
            case "PUT" -> {
                final JsonNode body = jsonBody(request);
                final JsonNode value = body.get("compatibility");
                final CompatibilityLevel level;
                try {
                    level = CompatibilityLevel.parse(value == null || !value.isTextual() ? null : value.asText());
                } catch (final IllegalArgumentException e) {
                    throw new HttpError(422, 42203, "Invalid compatibility level: " + abbreviate(e.getMessage()));
                }
                store.setLevel(subject, level);
                LOG.info("Compatibility of {} set to {}",
                    subject == null ? "the registry" : "subject " + SubjectNames.printable(subject), level);
                return Answer.json(200, Map.of("compatibility", level.name()));
            }
            default -> {
                if (subject == null) {
                    throw HttpError.methodNotAllowed(method, abbreviate(request.rawPath()));
                }
                final CompatibilityLevel previous = store.clearLevel(subject).orElseThrow(() -> noSubjectLevel(subject));
                return Answer.json(200, Map.of("compatibilityLevel", previous.name()));
            }
        }
    }

    private static HttpError noSubjectLevel(final String subject) {
        return new HttpError(404, 40408, "Subject " + SubjectNames.printable(subject)
            + " does not have subject-level compatibility configured (use ?defaultToGlobal=true)");
    }

    private Schema schemaById(final String idText) {
        final int id;
        try {
            id = Integer.parseInt(idText);
        } catch (final NumberFormatException e) {
            throw new UnknownSchemaException("schema id " + abbreviate(idText) + " not found");
        }
        return store.schemaById(id);
    }

    private static java.util.UUID guid(final String text) {
        try {
            return java.util.UUID.fromString(text);
        } catch (final IllegalArgumentException e) {
            throw new UnknownSchemaException("schema GUID " + abbreviate(text) + " not found");
        }
    }

    private static Map<String, Object> describe(final RegisteredSchema registered) {
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("subject", registered.subject());
        body.put("version", registered.version());
        body.put("id", registered.id());
        body.put("schema", AvroSchemas.canonicalText(registered.schema()));
        body.put("guid", SchemaGuids.of(registered.schema()).toString());
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
        throw new HttpError(422, 42202, "The specified version '" + abbreviate(version)
            + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
    }

    private Schema schemaFromBody(final Request request) {
        final JsonNode body = jsonBody(request);
        final JsonNode typeNode = body.get("schemaType");
        final String type = typeNode == null || typeNode.isNull() ? "AVRO" : typeNode.asText("");
        if (!type.equals("AVRO")) {
            throw new InvalidSchemaException("unsupported schemaType '" + abbreviate(type)
                + "': this registry stores AVRO only", null);
        }
        final JsonNode references = body.get("references");
        if (references != null && references.isArray() && !references.isEmpty()) {
            throw new InvalidSchemaException("schema references are not supported by this registry", null);
        }
        final JsonNode schema = body.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw new InvalidSchemaException("request body lacks the string field \"schema\"", null);
        }
        final String text = schema.asText();
        // Bound the text before Avro parses it: the parsed form costs many times its size in heap.
        store.checkSchemaSize(utf8Length(text));
        return AvroSchemas.parse(text);
    }

    private static JsonNode jsonBody(final Request request) {
        final String contentType = request.contentType();
        if (contentType != null && !contentType.isBlank()) {
            final int semicolon = contentType.indexOf(';');
            final String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip()
                .toLowerCase(Locale.ROOT);
            if (!BODY_TYPES.contains(type)) {
                throw new HttpError(415, 415, "unsupported content type '" + abbreviate(type)
                    + "': send application/vnd.schemaregistry.v1+json or application/json");
            }
        }
        final byte[] bytes = request.body();
        if (bytes == null || bytes.length == 0) {
            throw new HttpError(400, 400, "request body is empty; expected JSON");
        }
        try {
            final JsonNode node = Answer.JSON.readerFor(JsonNode.class)
                .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(bytes);
            if (node == null || !node.isObject()) {
                throw new HttpError(400, 400, "request body must be a JSON object");
            }
            return node;
        } catch (final JsonProcessingException e) {
            throw new HttpError(400, 400, "malformed JSON body: " + abbreviate(e.getOriginalMessage()));
        } catch (final IOException e) {
            throw new HttpError(400, 400, "unreadable JSON body: " + abbreviate(e.getMessage()));
        }
    }

    private static long utf8Length(final String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            final char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static void requireMethod(final String method, final String rawPath, final String... allowed) {
        for (final String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw HttpError.methodNotAllowed(abbreviate(method), abbreviate(rawPath));
    }

    private static HttpError notFound(final String rawPath) {
        return HttpError.notFound(abbreviate(rawPath));
    }

    private static List<String> segments(final String rawPath) {
        final List<String> out = new ArrayList<>();
        for (final String part : rawPath.split("/")) {
            if (!part.isEmpty()) {
                try {
                    out.add(URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8));
                } catch (final IllegalArgumentException e) {
                    throw new HttpError(400, 400, "malformed percent-encoding in path: " + abbreviate(rawPath));
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
                throw new HttpError(400, 400, "malformed query string: " + abbreviate(rawQuery));
            }
        }
        return out;
    }

    /** @return the text cut for an error message, with control characters escaped (they could forge log lines) */
    static String abbreviate(final String text) {
        if (text == null) {
            return "";
        }
        final StringBuilder out = new StringBuilder();
        final int limit = Math.min(text.length(), MAX_ECHOED_PATH);
        for (int i = 0; i < limit; i++) {
            final char c = text.charAt(i);
            out.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        if (text.length() > limit) {
            out.append("...");
        }
        return out.toString();
    }
}
