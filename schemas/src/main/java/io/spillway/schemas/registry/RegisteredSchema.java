package io.spillway.schemas.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject.
 *
 * @param subject the subject, never null
 * @param version version number under the subject, from 1
 * @param id global schema id (the id in the wire format), from 1
 * @param schema the parsed schema, never null
 */
public record RegisteredSchema(String subject, int version, int id, Schema schema) {
    /** Checks the arguments. */
    public RegisteredSchema {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(schema, "schema");
    }
}
