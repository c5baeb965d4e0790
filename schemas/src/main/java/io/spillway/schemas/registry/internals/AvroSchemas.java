package io.spillway.schemas.registry.internals;

import io.spillway.schemas.registry.InvalidSchemaException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/** Parses schema text as the registry does: one self-contained Avro schema, defaults validated. */
public final class AvroSchemas {
    private AvroSchemas() {
    }

    /**
     * @param text the schema JSON
     * @return the parsed schema
     * @throws InvalidSchemaException when the text is not a valid Avro schema
     */
    public static Schema parse(final String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidSchemaException("schema is missing or empty", null);
        }
        try {
            return new Schema.Parser().setValidateDefaults(true).parse(text);
        } catch (final SchemaParseException | IllegalArgumentException | NullPointerException e) {
            throw new InvalidSchemaException("invalid Avro schema: " + e.getMessage(), e);
        } catch (final RuntimeException e) {
            // Avro wraps Jackson's parse failures in assorted runtime exceptions.
            throw new InvalidSchemaException("invalid Avro schema: " + e.getMessage(), e);
        } catch (final StackOverflowError e) {
            // Avro parses recursively; a hostile schema nested deeply enough must not take the thread down.
            throw new InvalidSchemaException("invalid Avro schema: nested too deeply", null);
        }
    }

    /** @return the registry's identity of a schema: Avro's normalized JSON text */
    public static String canonicalText(final Schema schema) {
        return schema.toString();
    }
}
