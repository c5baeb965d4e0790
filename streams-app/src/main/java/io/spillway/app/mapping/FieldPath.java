package io.spillway.app.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;

/**
 * A dotted path to a field (a.b.c) through Avro records, Avro maps and JSON objects. A name holding a dot is written
 * in backticks ({@code `a.b`.c}), as Kafka Connect's field syntax V2 (KIP-821) writes it.
 */
public final class FieldPath {
    private final String text;
    private final String[] names;

    private FieldPath(final String text, final String[] names) {
        this.text = text;
        this.names = names;
    }

    /**
     * @throws IllegalArgumentException for an empty path, an empty name or an unclosed backtick
     */
    public static FieldPath parse(final String path) {
        Objects.requireNonNull(path, "path");
        final java.util.List<String> names = new java.util.ArrayList<>();
        final StringBuilder name = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < path.length(); i++) {
            final char c = path.charAt(i);
            if (c == '`') {
                quoted = !quoted;
            } else if (c == '.' && !quoted) {
                names.add(name.toString());
                name.setLength(0);
            } else {
                name.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("field path has an unclosed backtick: " + path);
        }
        names.add(name.toString());
        if (names.stream().anyMatch(n -> n.isBlank())) {
            throw new IllegalArgumentException("field path has an empty name: '" + path + "'");
        }
        return new FieldPath(path, names.toArray(String[]::new));
    }

    /**
     * A value found at a path.
     *
     * @param value the Avro datum (Utf8, boxed number, GenericRecord, Map, List, EnumSymbol...) or a JsonNode; null
     *        for an Avro null or a JSON null
     * @param schema its Avro schema (the union's branch taken), or null for JSON
     */
    public record Found(Object value, Schema schema) {
    }

    /**
     * @param root a GenericRecord or a JsonNode
     * @throws MappingException when a name on the path is missing, or a step is not a record or object
     */
    public Found resolve(final Object root) throws MappingException {
        Object v = root;
        Schema schema = root instanceof GenericRecord r ? r.getSchema() : null;
        for (int i = 0; i < names.length; i++) {
            final String name = names[i];
            if (v == null || v instanceof JsonNode n && n.isNull()) {
                throw new MappingException(text, i == 0 ? "missing" : "missing: " + prefix(i) + " is null");
            }
            if (v instanceof GenericRecord r) {
                final Schema.Field field = r.getSchema().getField(name);
                if (field == null) {
                    throw new MappingException(text, "missing");
                }
                v = r.get(field.pos());
                schema = branch(field.schema(), v);
            } else if (v instanceof Map<?, ?> m) {
                final Object entry = m.containsKey(new Utf8(name)) ? m.get(new Utf8(name)) : m.get(name);
                if (entry == null && !m.containsKey(new Utf8(name)) && !m.containsKey(name)) {
                    throw new MappingException(text, "missing");
                }
                v = entry;
                schema = schema == null ? null : branch(schema.getValueType(), v);
            } else if (v instanceof JsonNode n && n.isObject()) {
                if (!n.has(name)) {
                    throw new MappingException(text, "missing");
                }
                v = n.get(name);
            } else {
                throw new MappingException(text, "missing: " + prefix(i) + " is not a record or object");
            }
        }
        if (v instanceof JsonNode n && n.isNull()) {
            v = null;
        }
        return new Found(v, schema);
    }

    private String prefix(final int names) {
        return String.join(".", Arrays.copyOf(this.names, names));
    }

    /** The branch of a union the datum is in (the schema itself when not a union). */
    private static Schema branch(final Schema schema, final Object datum) {
        if (schema == null || schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        return schema.getTypes().get(GenericData.get().resolveUnion(schema, datum));
    }

    @Override
    public String toString() {
        return text;
    }
}
