package io.spillway.app.config;

import java.util.LinkedHashMap;
import java.util.Map;

/** The typed, checked values of a {@link SettingSet}: those given, and the defaults of the others. Immutable. */
public final class ParsedSettings {
    private final SettingSet definition;
    private final Map<Setting<?>, Object> given;

    ParsedSettings(final SettingSet definition, final Map<Setting<?>, ?> values) {
        this.definition = definition;
        this.given = new LinkedHashMap<>();
        for (final Map.Entry<Setting<?>, ?> e : values.entrySet()) {
            if (definition.find(e.getKey().name()) != e.getKey()) {
                throw new SettingException(e.getKey().name(), "is not one of these settings", null);
            }
            if (e.getValue() != null) {
                given.put(e.getKey(), checked(e.getKey(), e.getValue()));
            }
        }
    }

    private static <T> T checked(final Setting<T> s, final Object value) {
        if (!s.type().javaType().isInstance(value)) {
            throw new SettingException(s.name(), "expected a " + s.type().name() + ", not " + value, null);
        }
        return s.check(s.type().javaType().cast(value));
    }

    /** The value given, else the default; null for a setting without a value whose default is computed at run time. */
    public <T> T get(final Setting<T> setting) {
        if (definition.find(setting.name()) != setting) {
            throw new IllegalArgumentException(setting + " is not one of these settings");
        }
        final Object v = given.get(setting);
        return v != null ? setting.type().javaType().cast(v) : setting.defaultValue();
    }

    /** Whether a value was given (not the default). */
    public boolean isGiven(final Setting<?> setting) {
        return given.containsKey(setting);
    }

    /** The same with {@code setting} set to {@code value}. */
    public <T> ParsedSettings with(final Setting<T> setting, final T value) {
        final Map<Setting<?>, Object> copy = new LinkedHashMap<>(given);
        copy.put(setting, value);
        return new ParsedSettings(definition, copy);
    }
}
