package io.spillway.app.config;

import java.util.Objects;

/**
 * One setting, defined once: its name (the CLI option without its dashes), type, default, documentation, the values
 * it allows, and its group in the docs. The CLI's option, its {@code --help} text and the row in
 * {@code docs/configuration.md} are made from it.
 *
 * @param <T> the type of its values
 */
public final class Setting<T> {
    /** Where a setting is listed in the docs. */
    public enum Group {
        KAFKA("Kafka, topics and state"),
        MODEL("The model"),
        ENGINE("The engine"),
        TRAINING("Training"),
        INPUT("Input formats and guards"),
        OPERATIONS("The operations endpoint");

        private final String title;

        Group(final String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    /** How likely a user is to need the setting (Kafka's importance): the docs list the likely ones first. */
    public enum Importance { HIGH, MEDIUM, LOW }

    private final String name;
    private final SettingType<T> type;
    private final String defaultText;
    private final T defaultValue;
    private final String defaultDescription;
    private final String documentation;
    private final Validator<? super T> validator;
    private final Group group;
    private final Importance importance;

    private Setting(final Builder<T> b) {
        this.name = Objects.requireNonNull(b.name, "name");
        this.type = Objects.requireNonNull(b.type, "type");
        this.documentation = Objects.requireNonNull(b.documentation, "documentation of " + name);
        this.validator = b.validator;
        this.group = Objects.requireNonNull(b.group, "group of " + name);
        this.importance = b.importance;
        this.defaultText = b.defaultText;
        if (b.defaultText == null && b.defaultDescription == null) {
            throw new IllegalArgumentException(name + " needs a default or words for the one computed at run time");
        }
        this.defaultDescription = b.defaultDescription;
        // parsed here, so a default its own validator refuses fails when the definitions load
        this.defaultValue = b.defaultText == null ? null : parse(b.defaultText);
    }

    public static <T> Builder<T> define(final String name, final SettingType<T> type) {
        return new Builder<>(name, type);
    }

    public String name() {
        return name;
    }

    /** The CLI option: {@code --} and the name. */
    public String option() {
        return "--" + name;
    }

    public SettingType<T> type() {
        return type;
    }

    /** The default as one would write it ({@code PT2S}, {@code 512MiB}); null when it is computed at run time. */
    public String defaultText() {
        return defaultText;
    }

    /** The parsed default; null when it is computed at run time ({@link #defaultDescription}). */
    public T defaultValue() {
        return defaultValue;
    }

    /** The default in words: the text, or what is computed at run time without a value. */
    public String defaultDescription() {
        return defaultText != null ? defaultText : defaultDescription;
    }

    public String documentation() {
        return documentation;
    }

    public Group group() {
        return group;
    }

    public Importance importance() {
        return importance;
    }

    /** The allowed values in words: the validator's, else the type's choices; empty when any value of the type goes. */
    public String validValues() {
        final String v = validator.describe();
        return v.isEmpty() ? type.values() : type.values().isEmpty() ? v : type.values() + "; " + v;
    }

    /** The value of {@code text}, parsed and checked; a {@link SettingException} names this setting and says why not. */
    public T parse(final String text) {
        Objects.requireNonNull(text, name);
        final T value;
        try {
            value = type.parse(text);
        } catch (final IllegalArgumentException e) {
            // the type's message already says what the type takes; add only what the validator narrows it to
            final String narrowed = validator.describe();
            throw new SettingException(name, e.getMessage() + (narrowed.isEmpty() ? "" : " (allowed: " + narrowed + ")"),
                    e);
        }
        return check(value);
    }

    /** {@code value} when this setting allows it; else a {@link SettingException} that says what it allows. */
    public T check(final T value) {
        if (!validator.accepts(value)) {
            throw new SettingException(name, "'" + value + "' is not allowed" + allowed(), null);
        }
        return value;
    }

    private String allowed() {
        final String v = validValues();
        return v.isEmpty() ? "" : " (allowed: " + v + ")";
    }

    @Override
    public String toString() {
        return option();
    }

    /** Builds a {@link Setting}: documentation, group and a default (or words for a computed one) are required. */
    public static final class Builder<T> {
        private final String name;
        private final SettingType<T> type;
        private String defaultText;
        private String defaultDescription;
        private String documentation;
        private Validator<? super T> validator = Validator.any();
        private Group group;
        private Importance importance = Importance.MEDIUM;

        private Builder(final String name, final SettingType<T> type) {
            this.name = name;
            this.type = type;
        }

        /** The default, written as a user would write it. */
        public Builder<T> byDefault(final String text) {
            this.defaultText = text;
            return this;
        }

        /** No fixed default: {@code words} say what happens without a value (e.g. "host name and process id"). */
        public Builder<T> computedDefault(final String words) {
            this.defaultDescription = words;
            return this;
        }

        /** What the setting does, one or a few sentences without a final period. */
        public Builder<T> doc(final String text) {
            this.documentation = text;
            return this;
        }

        public Builder<T> validator(final Validator<? super T> v) {
            this.validator = v;
            return this;
        }

        public Builder<T> group(final Group g) {
            this.group = g;
            return this;
        }

        public Builder<T> importance(final Importance i) {
            this.importance = i;
            return this;
        }

        public Setting<T> build() {
            return new Setting<>(this);
        }
    }
}
