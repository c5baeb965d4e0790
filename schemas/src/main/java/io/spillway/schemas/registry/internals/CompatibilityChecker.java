package io.spillway.schemas.registry.internals;

import io.spillway.schemas.registry.CompatibilityLevel;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/** Applies a {@link CompatibilityLevel} with Avro's {@link SchemaCompatibility}. Stateless. */
public final class CompatibilityChecker {
    private CompatibilityChecker() {
    }

    /**
     * Checks a candidate schema against the live versions of a subject.
     *
     * @param level the subject's level
     * @param candidate the schema about to be registered
     * @param existing live versions, oldest first (only the last is used unless the level is transitive)
     * @return one line per problem; empty when the candidate is acceptable
     */
    public static List<String> incompatibilities(final CompatibilityLevel level, final Schema candidate,
                                                 final List<VersionedSchema> existing) {
        final List<String> problems = new ArrayList<>();
        if (level == CompatibilityLevel.NONE || existing.isEmpty()) {
            return problems;
        }
        final List<VersionedSchema> against = level.transitive()
            ? existing : List.of(existing.get(existing.size() - 1));
        for (final VersionedSchema old : against) {
            if (level.backward()) {
                // New readers must read old data.
                problems.addAll(describe("BACKWARD", old.version(), candidate, old.schema()));
            }
            if (level.forward()) {
                // Old readers must read new data.
                problems.addAll(describe("FORWARD", old.version(), old.schema(), candidate));
            }
        }
        return problems;
    }

    /**
     * @return one line per reason {@code reader} cannot read data written with {@code writer}; empty when it can
     */
    public static List<String> readProblems(final Schema reader, final Schema writer) {
        final SchemaCompatibility.SchemaPairCompatibility pair =
            SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        final List<String> lines = new ArrayList<>();
        if (pair.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            return lines;
        }
        for (final SchemaCompatibility.Incompatibility inc : pair.getResult().getIncompatibilities()) {
            lines.add(inc.getType() + " at " + fieldPath(reader, inc.getLocation()) + " (" + inc.getLocation() + "): "
                + inc.getMessage());
        }
        if (lines.isEmpty()) {
            lines.add(pair.getDescription());
        }
        return lines;
    }

    /**
     * Turns Avro's JSON-pointer location (e.g. {@code /fields/0/type}) into a dotted field path of the
     * reader schema (e.g. {@code Event.entityId}), best effort.
     */
    static String fieldPath(final Schema reader, final String location) {
        if (location == null || location.isEmpty() || "/".equals(location)) {
            return reader.getName();
        }
        final StringBuilder path = new StringBuilder(reader.getName());
        Schema current = reader;
        final String[] tokens = location.substring(1).split("/");
        for (int i = 0; i < tokens.length; i++) {
            final String token = tokens[i];
            try {
                if ("fields".equals(token) && current.getType() == Schema.Type.RECORD && i + 1 < tokens.length) {
                    final Schema.Field field = current.getFields().get(Integer.parseInt(tokens[++i]));
                    path.append('.').append(field.name());
                    current = field.schema();
                } else if ("items".equals(token) && current.getType() == Schema.Type.ARRAY) {
                    path.append("[]");
                    current = current.getElementType();
                } else if ("values".equals(token) && current.getType() == Schema.Type.MAP) {
                    path.append("{}");
                    current = current.getValueType();
                } else if (current.getType() == Schema.Type.UNION && token.chars().allMatch(Character::isDigit)) {
                    current = current.getTypes().get(Integer.parseInt(token));
                }
            } catch (final RuntimeException e) {
                return location;
            }
        }
        return path.toString();
    }

    private static List<String> describe(final String direction, final int version,
                                         final Schema reader, final Schema writer) {
        final List<String> lines = new ArrayList<>();
        for (final String problem : readProblems(reader, writer)) {
            lines.add(direction + " check against version " + version + ": " + problem);
        }
        return lines;
    }

    /**
     * A schema with its version number under a subject.
     *
     * @param version version number
     * @param schema the schema
     */
    public record VersionedSchema(int version, Schema schema) {
    }
}
