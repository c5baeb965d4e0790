package io.spillway.app.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An ordered set of settings with distinct names (Kafka's {@code ConfigDef}), and parsing against it. */
public final class SettingSet {
    private final Map<String, Setting<?>> byName = new LinkedHashMap<>();

    public SettingSet(final List<Setting<?>> settings) {
        for (final Setting<?> s : settings) {
            if (byName.putIfAbsent(s.name(), s) != null) {
                throw new IllegalArgumentException("setting " + s.name() + " is defined twice");
            }
        }
    }

    /** In the order defined. */
    public List<Setting<?>> settings() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    /** The setting named so, or null. */
    public Setting<?> find(final String name) {
        return byName.get(name);
    }

    /** Texts by setting name, parsed and checked; a name not defined here is refused, naming the known ones. */
    public ParsedSettings parse(final Map<String, String> texts) {
        final Map<Setting<?>, Object> values = new LinkedHashMap<>();
        for (final Map.Entry<String, String> e : texts.entrySet()) {
            final Setting<?> s = byName.get(e.getKey());
            if (s == null) {
                throw new SettingException(e.getKey(), "no such setting; the settings are " + byName.keySet(), null);
            }
            values.put(s, s.parse(e.getValue()));
        }
        return new ParsedSettings(this, values);
    }

    /** Values already parsed (the CLI's), checked again against their settings. */
    public ParsedSettings of(final Map<Setting<?>, ?> values) {
        return new ParsedSettings(this, values);
    }
}
