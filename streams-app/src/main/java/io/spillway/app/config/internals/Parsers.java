package io.spillway.app.config.internals;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Text to values, with messages that quote the text and say what would have been read. */
public final class Parsers {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)(i?b)?", Pattern.CASE_INSENSITIVE);

    private Parsers() {
    }

    public static Integer parseInt(final String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an integer", e);
        }
    }

    public static Short parseShort(final String text) {
        try {
            return Short.parseShort(text.trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an integer from -32768 to 32767", e);
        }
    }

    public static Long parseLong(final String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an integer", e);
        }
    }

    public static Float parseFloat(final String text) {
        try {
            return Float.parseFloat(text.trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number", e);
        }
    }

    public static Double parseDouble(final String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number", e);
        }
    }

    public static Boolean parseBoolean(final String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("'" + text + "' is not true or false");
        };
    }

    /** ISO-8601 ({@code PT2S}, {@code P1D}), in any case. */
    public static Duration parseDuration(final String text) {
        try {
            return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        } catch (final DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not an ISO-8601 duration; use e.g. PT2S, PT5M or P1D", e);
        }
    }

    /** {@code 512MiB}, {@code 2GiB}, {@code 64m} or {@code 1048576}: binary units, in any case. */
    public static Long parseSize(final String text) {
        final Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size; use e.g. 512MiB, 2GiB or bytes");
        }
        final long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large", e);
        }
        final int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return n << shift;
    }
}
