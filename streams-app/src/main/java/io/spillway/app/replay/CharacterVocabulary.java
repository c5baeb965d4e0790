package io.spillway.app.replay;

/**
 * Maps characters to event types: printable ASCII and newline get a class each, everything else (tabs,
 * control and non-ASCII characters) shares one "other" class. Stateless and thread-safe.
 */
public final class CharacterVocabulary {
    /** Number of event types: other, newline and the 95 printable ASCII characters. */
    public static final int SIZE = 97;
    /** Class of any character without its own class. */
    public static final int OTHER = 0;
    /** Class of {@code '\n'}. */
    public static final int NEWLINE = 1;

    private static final int FIRST_PRINTABLE = 0x20;
    private static final int LAST_PRINTABLE = 0x7E;

    private CharacterVocabulary() {
    }

    /**
     * @param codePoint a Unicode code point
     * @return its event type in {@code [0, SIZE)}
     */
    public static int eventType(final int codePoint) {
        if (codePoint == '\n') {
            return NEWLINE;
        }
        if (codePoint >= FIRST_PRINTABLE && codePoint <= LAST_PRINTABLE) {
            return codePoint - FIRST_PRINTABLE + 2;
        }
        return OTHER;
    }

    /** The character an event type stands for, or {@code U+FFFD} for {@link #OTHER} (for display). */
    public static char character(final int eventType) {
        if (eventType < 0 || eventType >= SIZE) {
            throw new IllegalArgumentException("event type " + eventType + " outside [0, " + SIZE + ")");
        }
        if (eventType == OTHER) {
            return '\uFFFD';
        }
        return eventType == NEWLINE ? '\n' : (char) (eventType - 2 + FIRST_PRINTABLE);
    }
}
