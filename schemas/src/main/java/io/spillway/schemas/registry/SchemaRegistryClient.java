package io.spillway.schemas.registry;

import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * A client of a Confluent-compatible Schema Registry (the REST API subset Spillway needs).
 *
 * <p>Implementations are thread-safe. They cache schemas by id and ids by (subject, schema), so the
 * serde hot path ({@link #register} of an already registered schema, {@link #getById} of a known id)
 * makes no network call; the REST client also remembers for a while which ids the registry said it
 * does not know, so a stream of records with a bogus id costs one request, not one each. Arguments
 * must not be null. Failures are unchecked {@link SchemaRegistryException}s:
 * {@link UnknownSchemaException} and its siblings mean the data names something the registry does not
 * have (the record's fault); {@link SchemaRegistryUnavailableException} means "try again later" (the
 * registry's state, never the record's). A call returns or fails within a bounded time (see
 * {@link SchemaRegistryClientConfig#CALL_TIMEOUT_MS}); retrying beyond that is the caller's choice.
 *
 * <p>Create one with {@link SchemaRegistryClients#create}. The creator owns the client and closes it.
 */
public interface SchemaRegistryClient extends AutoCloseable {

    /**
     * Registers the schema under the subject, or returns its id when already registered there.
     * Idempotent: the same schema always gets the same id, and the same schema under another subject
     * gets the same id too.
     *
     * @return the global schema id
     * @throws IncompatibleSchemaException if the schema breaks the subject's compatibility level
     * @throws InvalidSchemaException if the registry rejects the schema as invalid
     */
    int register(String subject, Schema schema);

    /**
     * @param id global schema id
     * @return the schema with that id
     * @throws UnknownSchemaException if no schema has that id
     */
    Schema getById(int id);

    /**
     * The schema a GUID names: the identifier Confluent's newer serializers carry in a record header
     * ({@code __value_schema_id}) instead of the id before the payload.
     *
     * @throws UnknownSchemaException if no schema has that GUID
     */
    Schema getByGuid(java.util.UUID guid);

    /**
     * Looks the schema up under the subject without registering it.
     *
     * @return the version holding exactly this schema, or empty when the subject does not hold it
     */
    Optional<RegisteredSchema> lookup(String subject, Schema schema);

    /**
     * Tests the schema against the subject's compatibility level without registering it.
     * A subject without versions accepts any schema.
     *
     * @return whether {@link #register} would accept it
     */
    boolean testCompatibility(String subject, Schema schema);

    /** @return the newest live version of the subject, or empty when it has none */
    Optional<RegisteredSchema> latest(String subject);

    /** @return the given live version of the subject, or empty when it has no such version */
    Optional<RegisteredSchema> version(String subject, int version);

    /** @return the live version numbers of the subject, ascending; empty for an unknown subject */
    List<Integer> versions(String subject);

    /** @return the subjects with at least one live version, sorted */
    List<String> subjects();

    /**
     * Soft-deletes every version of the subject: they disappear from listings and lookups, but their
     * schema ids stay readable through {@link #getById}, and a later registration continues the
     * version numbering.
     *
     * @return the versions deleted; empty when the subject had none
     */
    List<Integer> deleteSubject(String subject);

    /** @return the level the subject is checked with: its own level, else the global level */
    CompatibilityLevel compatibility(String subject);

    /** Sets the subject's own compatibility level. */
    void setCompatibility(String subject, CompatibilityLevel level);

    /** @return the global compatibility level (BACKWARD unless changed) */
    CompatibilityLevel globalCompatibility();

    /** Sets the global compatibility level, used by subjects without a level of their own. */
    void setGlobalCompatibility(CompatibilityLevel level);

    /** @return the client's request and failure counters so far (all zero for clients that make no requests) */
    default RegistryClientStats stats() {
        return RegistryClientStats.NONE;
    }

    /** Releases connections; idempotent. Does not touch the registry's data. */
    @Override
    void close();
}
