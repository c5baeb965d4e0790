package io.spillway.schemas.registry;

/**
 * A schema id names a schema of a type this client does not parse (Confluent's {@code schemaType} PROTOBUF or JSON):
 * a property of the data, not of the registry's health, so a record framed with such an id is not retried.
 */
public class UnsupportedSchemaTypeException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    private final int id;
    private final String schemaType;

    /**
     * @param id the schema id
     * @param schemaType the registry's {@code schemaType}, e.g. PROTOBUF
     * @param schemaText the schema's text (a JSON Schema can still be read as plain JSON), may be null
     */
    public UnsupportedSchemaTypeException(final int id, final String schemaType, final String schemaText) {
        super("schema id " + id + " is of type " + schemaType + ", not AVRO");
        this.id = id;
        this.schemaType = schemaType;
        this.schemaText = schemaText;
    }

    private final String schemaText;

    /** @return the schema id */
    public int id() {
        return id;
    }

    /** @return the registry's schemaType, upper case (PROTOBUF, JSON, ...) */
    public String schemaType() {
        return schemaType;
    }

    /** @return the schema's text as the registry gave it, or null */
    public String schemaText() {
        return schemaText;
    }
}
