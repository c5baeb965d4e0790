package io.spillway.schemas.serde;

import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A record could not be serialized or deserialized. {@link #reason()} says why, exactly one reason
 * per failure mode, so callers can route records: {@link Reason#REGISTRY_UNAVAILABLE} is transient
 * (retry), every other reason is a property of the data (dead-letter it).
 */
public class SerdeException extends SerializationException {
    private static final long serialVersionUID = 1L;

    /** Why a record failed. */
    public enum Reason {
        /** Fewer than 5 bytes (magic byte + 4-byte schema id), including an empty array. */
        TOO_SHORT,
        /** The first byte is not 0: not the Confluent wire format. */
        WRONG_MAGIC_BYTE,
        /**
         * The schema id is not in the registry (deserializing), or the record's schema is not
         * registered under the subject and may not be registered (serializing).
         */
        UNKNOWN_SCHEMA_ID,
        /** The writer's schema cannot be resolved to the reader's (or is rejected by the subject's compatibility). */
        INCOMPATIBLE_SCHEMA,
        /** The Avro body does not decode with the writer schema, or has bytes left over; or the record to write does not match its schema. */
        MALFORMED_AVRO,
        /**
         * The schema id names a schema that is not Avro (Protobuf, JSON Schema): the cause is the registry client's
         * {@link io.spillway.schemas.registry.UnsupportedSchemaTypeException}, which names the type.
         */
        UNSUPPORTED_SCHEMA_TYPE,
        /** The registry could not be reached, kept failing, or refused the credentials: transient, retry. */
        REGISTRY_UNAVAILABLE,
        /**
         * The record's {@code __value_schema_id} (or {@code __key_schema_id}) header is neither a version-0 id
         * (0x00 and 4 bytes) nor a version-1 GUID (0x01 and 16 bytes).
         */
        MALFORMED_SCHEMA_ID_HEADER
    }

    private final Reason reason;
    private final int schemaId;

    /**
     * @param reason why, not null
     * @param schemaId the schema id involved, or -1 when unknown
     * @param message a clear description
     * @param cause the underlying failure, may be null
     */
    public SerdeException(final Reason reason, final int schemaId, final String message, final Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.schemaId = schemaId;
    }

    /**
     * @param reason why, not null
     * @param schemaId the schema id involved, or -1 when unknown
     * @param message a clear description
     */
    public SerdeException(final Reason reason, final int schemaId, final String message) {
        this(reason, schemaId, message, null);
    }

    /** @return why the record failed, never null */
    public Reason reason() {
        return reason;
    }

    /** @return the schema id involved, or -1 when unknown (e.g. the payload was too short to hold one) */
    public int schemaId() {
        return schemaId;
    }
}
