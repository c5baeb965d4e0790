package io.spillway.app.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * Event times from field values: Avro {@code timestamp-millis} / {@code timestamp-micros} (and their {@code local-}
 * forms, taken as UTC), plain integral numbers in a configured unit (milliseconds by default), and ISO-8601 text
 * ({@code 2026-12-02T17:57:50Z}, with an offset, or without one as UTC).
 */
public final class EventTimes {
    private EventTimes() {
    }

    /**
     * @param found the value at the time field's path
     * @param unit the unit of plain numbers (numbers with an Avro timestamp logical type carry their own)
     * @return epoch milliseconds
     */
    public static long toMillis(final String path, final FieldPath.Found found, final TimeUnit unit)
            throws MappingException {
        final Object v = found.value();
        if (v == null) {
            throw new MappingException(path, "is null: no event time");
        }
        if (v instanceof JsonNode n) {
            if (n.isIntegralNumber() && n.canConvertToLong()) {
                return fromNumber(path, n.longValue(), unit);
            }
            if (n.isTextual()) {
                return parseIso(path, n.textValue());
            }
            throw new MappingException(path, "is not a time: a " + n.getNodeType().name().toLowerCase(Locale.ROOT)
                    + " (expected an integral number or ISO-8601 text)");
        }
        if (v instanceof Long || v instanceof Integer) {
            final long number = ((Number) v).longValue();
            final LogicalType logical = found.schema() == null ? null : found.schema().getLogicalType();
            if (logical instanceof LogicalTypes.TimestampMillis || logical instanceof LogicalTypes.LocalTimestampMillis) {
                return number;
            }
            if (logical instanceof LogicalTypes.TimestampMicros || logical instanceof LogicalTypes.LocalTimestampMicros) {
                return Math.floorDiv(number, 1000L);
            }
            if (logical instanceof LogicalTypes.TimestampNanos || logical instanceof LogicalTypes.LocalTimestampNanos) {
                return Math.floorDiv(number, 1_000_000L);
            }
            if (logical != null) {
                throw new MappingException(path, "has logical type " + logical.getName() + ", not a timestamp");
            }
            return fromNumber(path, number, unit);
        }
        if (v instanceof CharSequence s) {
            return parseIso(path, s.toString());
        }
        throw new MappingException(path, "is not a time: " + describe(found));
    }

    private static long fromNumber(final String path, final long number, final TimeUnit unit) throws MappingException {
        final long millis = unit.toMillis(number);
        if (millis == Long.MAX_VALUE || millis == Long.MIN_VALUE) {
            throw new MappingException(path, "is out of range: " + number + " " + unit.name().toLowerCase(Locale.ROOT));
        }
        return millis;
    }

    /** ISO-8601 instants, with a zone offset or without (UTC). */
    static long parseIso(final String path, final String text) throws MappingException {
        final String t = text.strip();
        try {
            return OffsetDateTime.parse(t).toInstant().toEpochMilli();
        } catch (final DateTimeParseException e) {
            // no offset: below
        } catch (final ArithmeticException e) {
            throw new MappingException(path, "is out of range: '" + abbreviate(t) + "'");
        }
        try {
            return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (final DateTimeParseException | ArithmeticException e) {
            try {
                return Instant.parse(t).toEpochMilli();
            } catch (final DateTimeParseException | ArithmeticException e2) {
                throw new MappingException(path, "is not an ISO-8601 time: '" + abbreviate(t) + "'");
            }
        }
    }

    static String abbreviate(final String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    static String describe(final FieldPath.Found found) {
        final Schema schema = found.schema();
        if (schema != null) {
            return "an Avro " + schema.getType().getName();
        }
        return found.value() instanceof JsonNode n ? "a JSON " + n.getNodeType().name().toLowerCase(Locale.ROOT)
                : found.value().getClass().getSimpleName();
    }
}
