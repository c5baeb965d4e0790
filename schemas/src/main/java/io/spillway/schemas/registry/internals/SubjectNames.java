package io.spillway.schemas.registry.internals;

import io.spillway.schemas.registry.SchemaRegistryException;

/**
 * The registry's rule for subject names, checked whenever a subject is created.
 *
 * <p>A subject name is 1 to {@value #MAX_LENGTH} characters (Unicode code points) with no control
 * character (U+0000-U+001F, U+007F-U+009F, so no NUL, tab or newline), no line or paragraph separator
 * (U+2028, U+2029), no unpaired surrogate, no {@code /} or {@code \}, and is not {@code .} or
 * {@code ..}. Names like {@code events-value}, {@code my.topic-key} or {@code :.ctx:orders-value}
 * pass. The rule keeps names safe to print in logs, to put in a URL path and to use as a file name.
 */
public final class SubjectNames {
    /** Longest subject name accepted, in code points. */
    public static final int MAX_LENGTH = 255;
    /** Confluent's error code for an invalid subject. */
    public static final int INVALID_SUBJECT_ERROR_CODE = 42208;

    private SubjectNames() {
    }

    /**
     * @param subject the name to check
     * @throws SchemaRegistryException (HTTP 422, error code 42208) naming the broken rule
     */
    public static void check(final String subject) {
        final String problem = problem(subject);
        if (problem != null) {
            throw new SchemaRegistryException("invalid subject " + printable(subject) + ": " + problem,
                422, INVALID_SUBJECT_ERROR_CODE, null);
        }
    }

    /** @return what is wrong with the name, or null when it is valid */
    static String problem(final String subject) {
        if (subject == null || subject.isEmpty()) {
            return "a subject name must not be empty";
        }
        if (subject.equals(".") || subject.equals("..")) {
            return "'.' and '..' are not subject names";
        }
        final int length = subject.codePointCount(0, subject.length());
        if (length > MAX_LENGTH) {
            return "longer than " + MAX_LENGTH + " characters (" + length + ")";
        }
        for (int i = 0; i < subject.length(); i++) {
            final char c = subject.charAt(i);
            if (Character.isISOControl(c)) {
                return String.format("control character U+%04X at position %d", (int) c, i);
            }
            if (c == '\u2028' || c == '\u2029') {
                return String.format("line separator U+%04X at position %d", (int) c, i);
            }
            if (c == '/' || c == '\\') {
                return "'" + c + "' at position " + i + " (subject names must not look like paths)";
            }
            if (Character.isHighSurrogate(c) && i + 1 < subject.length() && Character.isLowSurrogate(subject.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "unpaired surrogate at position " + i;
            }
        }
        return null;
    }

    /**
     * @return the name quoted for a message or log line: control and separator characters escaped,
     *     cut to 80 characters
     */
    public static String printable(final String subject) {
        if (subject == null) {
            return "null";
        }
        final StringBuilder out = new StringBuilder("'");
        final int limit = Math.min(subject.length(), 80);
        for (int i = 0; i < limit; i++) {
            final char c = subject.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)
                || c == '\'') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('\'');
        if (subject.length() > limit) {
            out.append("... (").append(subject.length()).append(" chars)");
        }
        return out.toString();
    }
}
