package io.spillway.schemas.registry;

import java.util.Locale;

/**
 * Confluent compatibility levels. BACKWARD (the default) means consumers using the new schema can
 * read data written with the previous one; FORWARD means consumers using the previous schema can
 * read data written with the new one; FULL is both. The TRANSITIVE variants check every live
 * version of the subject instead of only the latest.
 */
public enum CompatibilityLevel {
    NONE(false, false, false),
    BACKWARD(true, false, false),
    BACKWARD_TRANSITIVE(true, false, true),
    FORWARD(false, true, false),
    FORWARD_TRANSITIVE(false, true, true),
    FULL(true, true, false),
    FULL_TRANSITIVE(true, true, true);

    private final boolean backward;
    private final boolean forward;
    private final boolean transitive;

    CompatibilityLevel(final boolean backward, final boolean forward, final boolean transitive) {
        this.backward = backward;
        this.forward = forward;
        this.transitive = transitive;
    }

    /** @return whether the new schema must be able to read data written with older ones */
    public boolean backward() {
        return backward;
    }

    /** @return whether older schemas must be able to read data written with the new one */
    public boolean forward() {
        return forward;
    }

    /** @return whether every live version is checked, not only the latest */
    public boolean transitive() {
        return transitive;
    }

    /**
     * Parses a level name as Confluent writes it (case-insensitive).
     *
     * @param name e.g. "BACKWARD" or "full_transitive"
     * @return the level
     * @throws IllegalArgumentException for null or an unknown name
     */
    public static CompatibilityLevel parse(final String name) {
        if (name == null) {
            throw new IllegalArgumentException("compatibility level is missing");
        }
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown compatibility level '" + name
                + "' (expected one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)", e);
        }
    }
}
