package io.spillway.app.config;

import io.spillway.app.config.internals.Parsers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The type of a setting: its Java type, how its text parses, and its name and values in words for the docs.
 *
 * @param <T> the Java type of its values
 */
public final class SettingType<T> {
    public static final SettingType<String> STRING = new SettingType<>("string", String.class, "", t -> t);
    public static final SettingType<Integer> INT = new SettingType<>("int", Integer.class, "", Parsers::parseInt);
    public static final SettingType<Short> SHORT = new SettingType<>("short", Short.class, "", Parsers::parseShort);
    public static final SettingType<Long> LONG = new SettingType<>("long", Long.class, "", Parsers::parseLong);
    public static final SettingType<Float> FLOAT = new SettingType<>("float", Float.class, "", Parsers::parseFloat);
    public static final SettingType<Double> DOUBLE = new SettingType<>("double", Double.class, "", Parsers::parseDouble);
    public static final SettingType<Boolean> BOOLEAN =
            new SettingType<>("boolean", Boolean.class, "true or false", Parsers::parseBoolean);
    public static final SettingType<Duration> DURATION =
            new SettingType<>("duration", Duration.class, "ISO-8601, e.g. PT2S, PT5M, P1D", Parsers::parseDuration);
    /** A number of bytes, written with an optional binary unit: {@code 512MiB}, {@code 2g}, {@code 4096}. */
    public static final SettingType<Long> BYTES =
            new SettingType<>("size", Long.class, "bytes, or with a unit: 512KiB, 64MiB, 2GiB", Parsers::parseSize);
    public static final SettingType<Path> PATH = new SettingType<>("path", Path.class, "", Path::of);

    private final String name;
    private final Class<T> javaType;
    private final String values;
    private final Function<String, T> parser;
    private final boolean choices;

    private SettingType(final String name, final Class<T> javaType, final String values,
                        final Function<String, T> parser) {
        this(name, javaType, values, parser, false);
    }

    private SettingType(final String name, final Class<T> javaType, final String values,
                        final Function<String, T> parser, final boolean choices) {
        this.name = name;
        this.javaType = javaType;
        this.values = values;
        this.parser = parser;
        this.choices = choices;
    }

    /** Whether the type is a list of words ({@link #oneOf}), which a setting's documentation names anyway. */
    public boolean choices() {
        return choices;
    }

    /** One of a few words, in any case; the value is the word as listed. */
    public static SettingType<String> oneOf(final List<String> words) {
        final List<String> allowed = List.copyOf(words);
        return new SettingType<>("string", String.class, String.join(", ", allowed), text -> {
            for (final String w : allowed) {
                if (w.equalsIgnoreCase(text.trim())) {
                    return w;
                }
            }
            throw new IllegalArgumentException("'" + text + "' is not one of " + String.join(", ", allowed));
        }, true);
    }

    /** Some constants of an enum, named in lower case and read in any case. */
    @SafeVarargs
    public static <E extends Enum<E>> SettingType<E> oneOf(final Class<E> type, final E... allowed) {
        final List<E> values = allowed.length == 0 ? Arrays.asList(type.getEnumConstants()) : List.of(allowed);
        final String names = values.stream().map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
        return new SettingType<>("string", type, names, text -> {
            for (final E e : values) {
                if (e.name().equalsIgnoreCase(text.trim())) {
                    return e;
                }
            }
            throw new IllegalArgumentException("'" + text + "' is not one of " + names);
        }, true);
    }

    /** The type's name in the docs: {@code int}, {@code duration}, {@code size}, ... */
    public String name() {
        return name;
    }

    public Class<T> javaType() {
        return javaType;
    }

    /** The values the type itself allows in words (the choices of a {@link #oneOf}), empty when it says nothing. */
    public String values() {
        return values;
    }

    /** The value of {@code text}; an IllegalArgumentException says why it is not one. */
    public T parse(final String text) {
        return parser.apply(text);
    }
}
