package io.spillway.schemas.registry.internals;

import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.RegisteredSchema;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.UnknownSubjectException;
import io.spillway.schemas.registry.UnknownVersionException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * In-memory registry for {@code mock://<scope>} URLs: every client of one scope shares one
 * {@link SchemaStore}, so a serializer and a deserializer configured separately see the same ids.
 * For unit tests only. Thread-safe.
 */
public final class MockSchemaRegistryClient implements SchemaRegistryClient {
    private static final Map<String, SchemaStore> SCOPES = new ConcurrentHashMap<>();

    private final SchemaStore store;

    private MockSchemaRegistryClient(final SchemaStore store) {
        this.store = store;
    }

    /** @return a client of the scope's store, created empty on first use */
    public static MockSchemaRegistryClient forScope(final String scope) {
        return new MockSchemaRegistryClient(SCOPES.computeIfAbsent(scope, s -> SchemaStore.inMemory()));
    }

    /** Forgets the scope's store; later clients of the scope start empty. */
    public static void dropScope(final String scope) {
        SCOPES.remove(scope);
    }

    @Override
    public int register(final String subject, final Schema schema) {
        return store.register(subject, schema).id();
    }

    @Override
    public Schema getById(final int id) {
        return store.schemaById(id);
    }

    @Override
    public Schema getByGuid(final java.util.UUID guid) {
        return store.schemaById(store.idByGuid(guid));
    }

    @Override
    public Optional<RegisteredSchema> lookup(final String subject, final Schema schema) {
        return store.lookup(subject, schema);
    }

    @Override
    public boolean testCompatibility(final String subject, final Schema schema) {
        return store.incompatibilities(subject, schema).isEmpty();
    }

    @Override
    public Optional<RegisteredSchema> latest(final String subject) {
        return find(subject, "latest");
    }

    @Override
    public Optional<RegisteredSchema> version(final String subject, final int version) {
        return find(subject, Integer.toString(version));
    }

    private Optional<RegisteredSchema> find(final String subject, final String version) {
        try {
            return Optional.of(store.version(subject, version));
        } catch (final UnknownSubjectException | UnknownVersionException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<Integer> versions(final String subject) {
        return store.versions(subject);
    }

    @Override
    public List<String> subjects() {
        return store.subjects();
    }

    @Override
    public List<Integer> deleteSubject(final String subject) {
        return store.deleteSubject(subject);
    }

    @Override
    public CompatibilityLevel compatibility(final String subject) {
        return store.effectiveLevel(subject);
    }

    @Override
    public void setCompatibility(final String subject, final CompatibilityLevel level) {
        store.setLevel(subject, level);
    }

    @Override
    public CompatibilityLevel globalCompatibility() {
        return store.globalLevel();
    }

    @Override
    public void setGlobalCompatibility(final CompatibilityLevel level) {
        store.setLevel(null, level);
    }

    @Override
    public void close() {
        // The scope's store outlives its clients until dropScope.
    }
}
