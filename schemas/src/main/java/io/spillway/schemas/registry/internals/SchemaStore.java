package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.IncompatibleSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.UnknownVersionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * The registry's state and rules, shared by the {@code mock://} client and the HTTP server.
 *
 * <p>Confluent semantics: schema ids are global, one per distinct schema text (the same schema under
 * two subjects has one id); versions count from 1 per subject; deletion is soft (ids stay readable,
 * numbering continues). With a store file every change is appended to a {@link StoreLog} and forced
 * to disk before it becomes visible, and the log is replayed on open, so ids and versions survive a
 * restart. Thread-safe: every method is synchronized (the registry is tiny and writes are rare).
 */
public final class SchemaStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, Integer> idsByText = new HashMap<>();
    private final Map<String, Subject> subjects = new TreeMap<>();
    private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
    private int nextId = 1;
    private StoreLog log;

    private SchemaStore() {
    }

    /** @return an empty store kept only in memory */
    public static SchemaStore inMemory() {
        return new SchemaStore();
    }

    /**
     * Opens a persistent store, replaying the log file (created if missing).
     *
     * @param file the JSON-lines log
     * @throws UncheckedIOException when the file cannot be read or is corrupt
     */
    public static SchemaStore open(final Path file) {
        final SchemaStore store = new SchemaStore();
        try {
            store.log = StoreLog.open(file, JSON, store::apply);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return store;
    }

    /**
     * Registers the schema under the subject (see {@code SchemaRegistryClient#register}).
     *
     * @return the version now holding the schema (the existing one when already registered)
     * @throws IncompatibleSchemaException when the subject's level rejects it
     */
    public synchronized RegisteredSchema register(final String subject, final Schema schema) {
        final String text = AvroSchemas.canonicalText(schema);
        final Subject current = subjects.get(subject);
        if (current != null) {
            final Optional<Version> existing = current.liveWithText(text, this);
            if (existing.isPresent()) {
                return toRegistered(subject, existing.get());
            }
            final List<String> problems = CompatibilityChecker.incompatibilities(
                effectiveLevel(subject), schema, current.liveVersions(this));
            if (!problems.isEmpty()) {
                throw new IncompatibleSchemaException("schema being registered is incompatible with subject '"
                    + subject + "' at compatibility level " + effectiveLevel(subject) + ": "
                    + String.join("; ", problems), problems);
            }
        }
        Integer id = idsByText.get(text);
        if (id == null) {
            id = nextId;
            final ObjectNode entry = JSON.createObjectNode().put("op", "schema").put("id", id).put("schema", text);
            persistAndApply(entry);
        }
        final int version = current == null ? 1 : current.lastVersion + 1;
        persistAndApply(JSON.createObjectNode().put("op", "version").put("subject", subject)
            .put("version", version).put("id", id));
        return new RegisteredSchema(subject, version, id, schemasById.get(id));
    }

    /** @return the schema with that id @throws UnknownSchemaException when there is none */
    public synchronized Schema schemaById(final int id) {
        final Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new UnknownSchemaException("schema id " + id + " not found");
        }
        return schema;
    }

    /** @return the live version of the subject holding exactly this schema, if any */
    public synchronized Optional<RegisteredSchema> lookup(final String subject, final Schema schema) {
        final Subject current = subjects.get(subject);
        if (current == null) {
            return Optional.empty();
        }
        return current.liveWithText(AvroSchemas.canonicalText(schema), this).map(v -> toRegistered(subject, v));
    }

    /**
     * @return the problems that registering the schema under the subject would hit (empty: compatible)
     */
    public synchronized List<String> incompatibilities(final String subject, final Schema schema) {
        final Subject current = subjects.get(subject);
        if (current == null) {
            return List.of();
        }
        return CompatibilityChecker.incompatibilities(effectiveLevel(subject), schema, current.liveVersions(this));
    }

    /**
     * Checks the schema against one live version only, with the subject's level (the Confluent
     * {@code /compatibility/subjects/{s}/versions/{v}} semantics).
     *
     * @throws UnknownSubjectException, UnknownVersionException when the version does not exist
     */
    public synchronized List<String> incompatibilitiesWithVersion(final String subject, final String version,
                                                                   final Schema schema) {
        final RegisteredSchema target = version(subject, version);
        final CompatibilityLevel level = effectiveLevel(subject);
        if (level.transitive() && "latest".equals(version)) {
            return incompatibilities(subject, schema);
        }
        return CompatibilityChecker.incompatibilities(level, schema,
            List.of(new CompatibilityChecker.VersionedSchema(target.version(), target.schema())));
    }

    /**
     * @param version a version number or "latest"
     * @return that live version
     * @throws UnknownSubjectException when the subject has no live version
     * @throws UnknownVersionException when it has no such live version
     */
    public synchronized RegisteredSchema version(final String subject, final String version) {
        final Subject current = subjects.get(subject);
        if (current == null || current.live().isEmpty()) {
            throw UnknownSubjectException.of(subject);
        }
        if ("latest".equals(version) || "-1".equals(version)) {
            final List<Version> live = current.live();
            return toRegistered(subject, live.get(live.size() - 1));
        }
        final int number;
        try {
            number = Integer.parseInt(version);
        } catch (final NumberFormatException e) {
            throw UnknownVersionException.of(subject, version);
        }
        for (final Version v : current.live()) {
            if (v.number == number) {
                return toRegistered(subject, v);
            }
        }
        throw UnknownVersionException.of(subject, version);
    }

    /** @return live version numbers, ascending; empty for an unknown subject */
    public synchronized List<Integer> versions(final String subject) {
        final Subject current = subjects.get(subject);
        return current == null ? List.of() : current.live().stream().map(v -> v.number).toList();
    }

    /** @return subjects with at least one live version, sorted */
    public synchronized List<String> subjects() {
        final List<String> names = new ArrayList<>();
        subjects.forEach((name, s) -> {
            if (!s.live().isEmpty()) {
                names.add(name);
            }
        });
        return names;
    }

    /** Soft-deletes all live versions of the subject. @return the versions deleted */
    public synchronized List<Integer> deleteSubject(final String subject) {
        final List<Integer> deleted = versions(subject);
        if (!deleted.isEmpty()) {
            persistAndApply(JSON.createObjectNode().put("op", "delete").put("subject", subject));
        }
        return deleted;
    }

    /** @return the subject's own level, if one was set */
    public synchronized Optional<CompatibilityLevel> subjectLevel(final String subject) {
        final Subject current = subjects.get(subject);
        return current == null ? Optional.empty() : Optional.ofNullable(current.level);
    }

    /** @return the level the subject is checked with */
    public synchronized CompatibilityLevel effectiveLevel(final String subject) {
        return subjectLevel(subject).orElse(globalLevel);
    }

    /** @return the global level */
    public synchronized CompatibilityLevel globalLevel() {
        return globalLevel;
    }

    /** Sets a subject's own level; null subject sets the global level. */
    public synchronized void setLevel(final String subject, final CompatibilityLevel level) {
        final ObjectNode entry = JSON.createObjectNode().put("op", "config").put("level", level.name());
        if (subject != null) {
            entry.put("subject", subject);
        }
        persistAndApply(entry);
    }

    /** Removes a subject's own level. @return the level it had, if any */
    public synchronized Optional<CompatibilityLevel> clearLevel(final String subject) {
        final Optional<CompatibilityLevel> previous = subjectLevel(subject);
        if (previous.isPresent()) {
            persistAndApply(JSON.createObjectNode().put("op", "config").put("subject", subject).putNull("level"));
        }
        return previous;
    }

    @Override
    public synchronized void close() {
        if (log != null) {
            try {
                log.close();
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
            log = null;
        }
    }

    private void persistAndApply(final ObjectNode entry) {
        if (log != null) {
            log.append(entry);
        }
        apply(entry);
    }

    /** Applies one log entry to the in-memory state (used live and on replay). */
    private void apply(final JsonNode entry) {
        final String op = entry.path("op").asText();
        switch (op) {
            case "schema" -> {
                final int id = entry.get("id").asInt();
                final Schema schema = AvroSchemas.parse(entry.get("schema").asText());
                schemasById.put(id, schema);
                idsByText.put(AvroSchemas.canonicalText(schema), id);
                nextId = Math.max(nextId, id + 1);
            }
            case "version" -> {
                final Subject s = subjects.computeIfAbsent(entry.get("subject").asText(), k -> new Subject());
                final int number = entry.get("version").asInt();
                s.versions.add(new Version(number, entry.get("id").asInt()));
                s.lastVersion = Math.max(s.lastVersion, number);
            }
            case "delete" -> {
                final Subject s = subjects.get(entry.get("subject").asText());
                if (s != null) {
                    s.versions.forEach(v -> v.deleted = true);
                }
            }
            case "config" -> {
                final JsonNode levelNode = entry.get("level");
                final CompatibilityLevel level = levelNode == null || levelNode.isNull()
                    ? null : CompatibilityLevel.parse(levelNode.asText());
                if (entry.hasNonNull("subject")) {
                    subjects.computeIfAbsent(entry.get("subject").asText(), k -> new Subject()).level = level;
                } else if (level != null) {
                    globalLevel = level;
                }
            }
            default -> throw new IllegalStateException("unknown schema store entry: " + entry);
        }
    }

    private RegisteredSchema toRegistered(final String subject, final Version v) {
        return new RegisteredSchema(subject, v.number, v.id, schemasById.get(v.id));
    }

    private static final class Version {
        final int number;
        final int id;
        boolean deleted;

        Version(final int number, final int id) {
            this.number = number;
            this.id = id;
        }
    }

    private static final class Subject {
        final List<Version> versions = new ArrayList<>();
        int lastVersion;
        CompatibilityLevel level;

        List<Version> live() {
            return versions.stream().filter(v -> !v.deleted).toList();
        }

        List<CompatibilityChecker.VersionedSchema> liveVersions(final SchemaStore store) {
            return live().stream()
                .map(v -> new CompatibilityChecker.VersionedSchema(v.number, store.schemasById.get(v.id)))
                .toList();
        }

        Optional<Version> liveWithText(final String text, final SchemaStore store) {
            final Integer id = store.idsByText.get(text);
            if (id == null) {
                return Optional.empty();
            }
            return live().stream().filter(v -> v.id == id).findFirst();
        }
    }
}
