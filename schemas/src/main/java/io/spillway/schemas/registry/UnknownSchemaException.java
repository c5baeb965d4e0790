package io.spillway.schemas.registry;

/** A schema id (Confluent 40403) or a schema under a subject is not registered. */
public class UnknownSchemaException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /** Confluent error code for "schema not found". */
    public static final int ERROR_CODE = 40403;

    /** @param message which schema was not found */
    public UnknownSchemaException(final String message) {
        super(message, 404, ERROR_CODE, null);
    }
}
