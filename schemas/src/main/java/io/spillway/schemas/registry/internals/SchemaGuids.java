package io.spillway.schemas.registry.internals;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.avro.Schema;

/**
 * The schema GUIDs of this project's registry: a name-based UUID of the schema's canonical text, so a schema keeps
 * its GUID across restarts without the store writing it down (the store holds each text once, under one id).
 * Confluent's registry assigns its own; readers only ever look a GUID up, never compute one.
 */
public final class SchemaGuids {
    private SchemaGuids() {
    }

    public static UUID of(final Schema schema) {
        return UUID.nameUUIDFromBytes(("spillway-schema-registry:" + AvroSchemas.canonicalText(schema))
                .getBytes(StandardCharsets.UTF_8));
    }
}
