package io.spillway.schemas.registry;

import java.util.List;

/**
 * Registering the schema would break the subject's compatibility level (HTTP 409, Confluent
 * error code 409). {@link #incompatibilities()} lists why, when the registry said.
 */
public class IncompatibleSchemaException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /** Confluent error code for an incompatible schema. */
    public static final int ERROR_CODE = 409;

    private final List<String> incompatibilities;

    /**
     * @param message summary naming the subject and the level
     * @param incompatibilities one line per problem found, possibly empty, never null
     */
    public IncompatibleSchemaException(final String message, final List<String> incompatibilities) {
        super(message, 409, ERROR_CODE, null);
        this.incompatibilities = List.copyOf(incompatibilities);
    }

    /** @return the problems found (immutable, possibly empty) */
    public List<String> incompatibilities() {
        return incompatibilities;
    }
}
