package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.IncompatibleSchemaException;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.UnknownSchemaException;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.UnknownVersionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * The registry's state and rules, shared by the {@code mock://} client and the HTTP server.
 *
 * <p>Confluent semantics: schema ids are global, one per distinct schema text (the same schema under
 * two subjects has one id); versions count from 1 per subject; deletion is soft (ids stay readable,
 * numbering continues). With a store file every change is appended to a {@link StoreLog} and forced
 * to disk before it becomes visible, and the log is replayed on open, so ids and versions survive a
 * restart. Replay checks every entry (ids in range and unique, versions increasing, versions pointing
 * at known ids), so a damaged file is refused with {@code file:line} rather than served wrongly.
 *
 * <p>New subjects must pass {@link SubjectNames}, and {@link Limits} bound what one store may hold;
 * breaking either is an HTTP 422 answer, never a partial change. Thread-safe: every method is
 * synchronized (the registry is tiny and writes are rare).
 */
public final class SchemaStore implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Error code of a refused write because a limit is reached (Confluent's "operation not permitted"). */
    public static final int LIMIT_ERROR_CODE = 42205;
    /** Confluent's error code for a schema over the size limit. */
    public static final int SCHEMA_TOO_LARGE_ERROR_CODE = 42209;

    /**
     * Bounds on what one store holds. Replay loads whatever the file holds (a lowered limit never makes
     * a store unreadable); the limits apply to new writes.
     *
     * @param maxSchemas distinct schemas (ids), at least 1
     * @param maxSubjects subjects, including soft-deleted ones and ones with only a level set, at least 1
     * @param maxVersionsPerSubject versions of one subject, including soft-deleted ones, at least 1
     * @param maxSchemaBytes UTF-8 bytes of one schema's normalized text, at least 1
     */
    public record Limits(int maxSchemas, int maxSubjects, int maxVersionsPerSubject, int maxSchemaBytes) {
        /** 10,000 schemas, 10,000 subjects, 1,000 versions per subject, 1 MiB per schema. */
        public static final Limits DEFAULT = new Limits(10_000, 10_000, 1_000, 1 << 20);

        /** Checks the bounds. */
        public Limits {
            if (maxSchemas < 1 || maxSubjects < 1 || maxVersionsPerSubject < 1 || maxSchemaBytes < 1) {
                throw new IllegalArgumentException("registry limits must all be at least 1: " + maxSchemas + ", "
                    + maxSubjects + ", " + maxVersionsPerSubject + ", " + maxSchemaBytes);
            }
        }
    }

    private static final Set<String> SCHEMA_FIELDS = Set.of("op", "id", "schema");
    private static final Set<String> VERSION_FIELDS = Set.of("op", "subject", "version", "id");
    private static final Set<String> DELETE_FIELDS = Set.of("op", "subject");
    private static final Set<String> CONFIG_FIELDS = Set.of("op", "subject", "level");

    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, Integer> idsByText = new HashMap<>();
    private final Map<java.util.UUID, Integer> idsByGuid = new HashMap<>();
    private final Map<String, Subject> subjects = new TreeMap<>();
    private final Limits limits;
    private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
    /** A long, so the id after Integer.MAX_VALUE is noticed instead of wrapping to a negative one. */
    private long nextId = 1;
    private StoreLog log;

    private SchemaStore(final Limits limits) {
        this.limits = limits;
    }

    /** @return an empty store kept only in memory, with the default limits */
    public static SchemaStore inMemory() {
        return inMemory(Limits.DEFAULT);
    }

    /** @return an empty store kept only in memory */
    public static SchemaStore inMemory(final Limits limits) {
        return new SchemaStore(limits);
    }

    /**
     * Opens a persistent store with the default limits, replaying the log file (created if missing).
     *
     * @param file the JSON-lines log
     * @throws UncheckedIOException when the file cannot be read or locked, or is corrupt (its cause is then a
     *     {@link StoreCorruptException} and the message names {@code file:line}); the file is not left locked
     */
    public static SchemaStore open(final Path file) {
        return open(file, Limits.DEFAULT);
    }

    /** Like {@link #open(Path)}, with the given limits. */
    public static SchemaStore open(final Path file, final Limits limits) {
        return open(file, limits, StoreLog.FILE_CHANNELS);
    }

    static SchemaStore open(final Path file, final Limits limits, final StoreLog.ChannelOpener opener) {
        final SchemaStore store = new SchemaStore(limits);
        try {
            store.log = StoreLog.open(file, JSON, store::replay, opener);
        } catch (final IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return store;
    }

    /** @return the limits this store enforces */
    public Limits limits() {
        return limits;
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
            if (current.versions.size() >= limits.maxVersionsPerSubject()) {
                throw limitReached("subject '" + subject + "' already has " + current.versions.size()
                    + " versions, the most one subject may have (soft-deleted ones count)");
            }
        } else {
            SubjectNames.check(subject);
            checkRoomForSubject();
        }
        Integer id = idsByText.get(text);
        if (id == null) {
            checkSchemaSize(text.getBytes(StandardCharsets.UTF_8).length);
            if (schemasById.size() >= limits.maxSchemas()) {
                throw limitReached("the registry already holds " + schemasById.size()
                    + " schemas, the most it may hold");
            }
            if (nextId > Integer.MAX_VALUE) {
                throw limitReached("schema ids are used up (the last possible id, " + Integer.MAX_VALUE
                    + ", is taken)");
            }
            id = (int) nextId;
            final ObjectNode entry = JSON.createObjectNode().put("op", "schema").put("id", id).put("schema", text);
            persistAndApply(entry);
        }
        final int version = current == null ? 1 : current.lastVersion + 1;
        persistAndApply(JSON.createObjectNode().put("op", "version").put("subject", subject)
            .put("version", version).put("id", id));
        return new RegisteredSchema(subject, version, id, schemasById.get(id));
    }

    /**
     * @param bytes UTF-8 length of a schema's text
     * @throws SchemaRegistryException (422, 42209) when over {@link Limits#maxSchemaBytes()}
     */
    public void checkSchemaSize(final long bytes) {
        if (bytes > limits.maxSchemaBytes()) {
            throw new SchemaRegistryException("schema of " + bytes + " bytes is larger than the "
                + limits.maxSchemaBytes() + " bytes this registry accepts", 422, SCHEMA_TOO_LARGE_ERROR_CODE, null);
        }
    }

    private void checkRoomForSubject() {
        if (subjects.size() >= limits.maxSubjects()) {
            throw limitReached("the registry already holds " + subjects.size()
                + " subjects, the most it may hold (soft-deleted ones count)");
        }
    }

    private static SchemaRegistryException limitReached(final String what) {
        return new SchemaRegistryException("registry limit reached: " + what, 422, LIMIT_ERROR_CODE, null);
    }

    /** @return the schema with that id @throws UnknownSchemaException when there is none */
    public synchronized Schema schemaById(final int id) {
        final Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new UnknownSchemaException("schema id " + id + " not found");
        }
        return schema;
    }

    /** @return the id of the schema with that GUID ({@link SchemaGuids}) @throws UnknownSchemaException when none */
    public synchronized int idByGuid(final java.util.UUID guid) {
        final Integer id = idsByGuid.get(guid);
        if (id == null) {
            throw new UnknownSchemaException("schema GUID " + guid + " not found");
        }
        return id;
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
        if (subject != null && !subjects.containsKey(subject)) {
            SubjectNames.check(subject);
            checkRoomForSubject();
        }
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

    /**
     * Checks one replayed entry strictly and applies it; the log turns a refusal into {@code file:line}.
     *
     * @throws IllegalArgumentException saying what is wrong with the entry
     */
    private void replay(final ObjectNode entry) {
        final String op = entry.path("op").isTextual() ? entry.get("op").asText() : null;
        if (op == null) {
            throw new IllegalArgumentException("entry has no text field \"op\"");
        }
        switch (op) {
            case "schema" -> {
                onlyFields(entry, SCHEMA_FIELDS);
                final int id = requiredInt(entry, "id");
                final String text = requiredText(entry, "schema");
                if (id < 1) {
                    throw new IllegalArgumentException("schema id " + id + " is not positive");
                }
                if (schemasById.containsKey(id)) {
                    throw new IllegalArgumentException("schema id " + id + " is defined a second time");
                }
                final Schema schema;
                try {
                    schema = AvroSchemas.parse(text);
                } catch (final SchemaRegistryException e) {
                    throw new IllegalArgumentException("schema id " + id + " does not parse: " + e.getMessage());
                }
                final String canonical = AvroSchemas.canonicalText(schema);
                final Integer other = idsByText.get(canonical);
                if (other != null) {
                    throw new IllegalArgumentException("schema id " + id + " repeats the schema of id " + other);
                }
                schemasById.put(id, schema);
                idsByText.put(canonical, id);
                idsByGuid.put(SchemaGuids.of(schema), id);
                nextId = Math.max(nextId, (long) id + 1);
                return;
            }
            case "version" -> {
                onlyFields(entry, VERSION_FIELDS);
                final String subject = requiredText(entry, "subject");
                final int number = requiredInt(entry, "version");
                final int id = requiredInt(entry, "id");
                if (subject.isEmpty()) {
                    throw new IllegalArgumentException("version entry has an empty subject");
                }
                final Subject s = subjects.get(subject);
                final int last = s == null ? 0 : s.lastVersion;
                if (number <= last) {
                    throw new IllegalArgumentException("version " + number + " of subject "
                        + SubjectNames.printable(subject) + " does not follow version " + last);
                }
                if (!schemasById.containsKey(id)) {
                    throw new IllegalArgumentException("version " + number + " of subject "
                        + SubjectNames.printable(subject) + " points at schema id " + id
                        + ", which no earlier line defines");
                }
            }
            case "delete" -> {
                onlyFields(entry, DELETE_FIELDS);
                final String subject = requiredText(entry, "subject");
                if (!subjects.containsKey(subject)) {
                    throw new IllegalArgumentException("delete of subject " + SubjectNames.printable(subject)
                        + ", which no earlier line defines");
                }
            }
            case "config" -> {
                onlyFields(entry, CONFIG_FIELDS);
                final JsonNode subject = entry.get("subject");
                if (subject != null && (!subject.isTextual() || subject.asText().isEmpty())) {
                    throw new IllegalArgumentException("config entry has a subject that is not a non-empty text");
                }
                final JsonNode level = entry.get("level");
                if (level == null || !(level.isNull() || level.isTextual())) {
                    throw new IllegalArgumentException("config entry lacks a level (text or null)");
                }
                if (level.isNull() && subject == null) {
                    throw new IllegalArgumentException("config entry clears the global level");
                }
                if (level.isTextual()) {
                    CompatibilityLevel.parse(level.asText());
                }
            }
            default -> throw new IllegalArgumentException("unknown operation " + entry.get("op"));
        }
        apply(entry);
    }

    private static void onlyFields(final ObjectNode entry, final Set<String> allowed) {
        for (final Iterator<String> names = entry.fieldNames(); names.hasNext(); ) {
            final String name = names.next();
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException("unexpected field \"" + name + "\" in a "
                    + entry.get("op").asText() + " entry");
            }
        }
    }

    private static int requiredInt(final JsonNode entry, final String field) {
        final JsonNode value = entry.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new IllegalArgumentException("field \"" + field + "\" is " + (value == null ? "missing"
                : "not a 32-bit integer: " + abbreviate(value.toString())));
        }
        return value.asInt();
    }

    private static String requiredText(final JsonNode entry, final String field) {
        final JsonNode value = entry.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("field \"" + field + "\" is " + (value == null ? "missing"
                : "not a text: " + abbreviate(value.toString())));
        }
        return value.asText();
    }

    private static String abbreviate(final String text) {
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    /** Applies one (valid) log entry to the in-memory state, live and on replay. */
    private void apply(final JsonNode entry) {
        final String op = entry.path("op").asText();
        switch (op) {
            case "schema" -> {
                final int id = entry.get("id").asInt();
                final Schema schema = AvroSchemas.parse(entry.get("schema").asText());
                schemasById.put(id, schema);
                idsByText.put(AvroSchemas.canonicalText(schema), id);
                idsByGuid.put(SchemaGuids.of(schema), id);
                nextId = Math.max(nextId, (long) id + 1);
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
