package io.spillway.schemas.registry;

/** The schema text is not a valid (supported) Avro schema (HTTP 422, Confluent 42201). */
public class InvalidSchemaException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /** Confluent error code for an invalid schema. */
    public static final int ERROR_CODE = 42201;

    /**
     * @param message why the schema is invalid
     * @param cause the parser's failure, may be null
     */
    public InvalidSchemaException(final String message, final Throwable cause) {
        super(message, 422, ERROR_CODE, cause);
    }
}
