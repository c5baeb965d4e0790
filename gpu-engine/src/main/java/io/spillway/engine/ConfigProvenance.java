package io.spillway.engine;

import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The learner configuration a model's snapshot was made with, every setting by name as
 * {@link LearnerConfig#settings()} writes it, and the rule for restoring it under another one: settings of how the
 * learner runs ({@link LearnerConfig#EXECUTION_SETTINGS}) may change freely; its shape, cell and the kind of
 * optimizer ({@link LearnerConfig#FIXED_SETTINGS}; {@code adam} of {@code adam:decay=100}) never; every other setting (learning rate, {@code alpha}, {@code gain},
 * ...) only when the caller allows it explicitly, since the model would go on learning under other rules than it
 * was trained with. Layout (docs/formats.md): {@code int n}, then {@code n} pairs of {@code writeUTF} name and
 * value.
 *
 * @param settings setting name to value, as recorded
 */
public record ConfigProvenance(Map<String, String> settings) {
    /** More settings than any configuration has: a count beyond it is damage. */
    private static final int MAX_SETTINGS = 1024;

    public ConfigProvenance {
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(settings, "settings")));
    }

    /** What {@code config} records. */
    public static ConfigProvenance of(final LearnerConfig config) {
        return new ConfigProvenance(config.settings());
    }

    /** Writes the block. */
    public void write(final DataOutput out) throws IOException {
        out.writeInt(settings.size());
        for (final Map.Entry<String, String> e : settings.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    /**
     * Reads a block written by {@link #write}, refusing a negative or absurd count, a setting named twice and a
     * malformed name or value.
     *
     * @throws InvalidStateException naming what is wrong
     */
    public static ConfigProvenance read(final DataInput in) throws IOException {
        final int n = StateChecks.readLength(in, MAX_SETTINGS, "learner settings count");
        final Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            final String name = in.readUTF();
            if (settings.put(name, in.readUTF()) != null) {
                throw new InvalidStateException("learner setting " + StateChecks.quote(name) + " is recorded twice");
            }
        }
        return new ConfigProvenance(settings);
    }

    /**
     * A setting whose value differs.
     *
     * @param recorded the snapshot's value
     * @param current this configuration's value
     * @param fixed whether it is part of the model's shape, cell or optimizer (never restored across)
     */
    public record Change(String setting, String recorded, String current, boolean fixed) {
        @Override
        public String toString() {
            return setting + " " + recorded + " -> " + current;
        }
    }

    /**
     * The settings {@code current} has otherwise than recorded, those of how the learner runs aside; by name. A
     * setting only one side has (added or removed since the snapshot was made) is not compared: a snapshot cannot
     * have been made with another value of a setting that did not exist.
     */
    public List<Change> changesTo(final LearnerConfig current) {
        final Map<String, String> now = current.settings();
        final List<Change> changes = new ArrayList<>();
        for (final String name : new TreeSet<>(settings.keySet())) {
            if (LearnerConfig.EXECUTION_SETTINGS.contains(name) || !now.containsKey(name)) {
                continue;
            }
            final String was = settings.get(name);
            final String is = now.get(name);
            if (!was.equals(is)) {
                // the optimizer's kind fixes its state's layout; its settings (a rate decay, betas) only its rules
                final boolean fixed = name.equals("optimizer") ? !optimizerKind(was).equals(optimizerKind(is))
                        : LearnerConfig.FIXED_SETTINGS.contains(name);
                changes.add(new Change(name, was, is, fixed));
            }
        }
        return changes;
    }

    /** {@code adam} of {@code adam:decay=100}: the optimizer's name, before its settings. */
    private static String optimizerKind(final String spec) {
        final int colon = spec.indexOf(':');
        return (colon < 0 ? spec : spec.substring(0, colon)).strip().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Refuses to restore a state of this provenance into a learner of {@code current} when a fixed setting differs,
     * or, unless {@code allowChange}, any setting that is not one of how the learner runs.
     *
     * @param what the state, for the message (e.g. "snapshot version 12")
     * @return the changes accepted (empty when none), for the caller to log
     * @throws ConfigChangeRefusedException naming every differing setting with both values
     */
    public List<Change> check(final LearnerConfig current, final boolean allowChange, final String what)
            throws ConfigChangeRefusedException {
        final List<Change> changes = changesTo(current);
        final List<Change> fixed = changes.stream().filter(Change::fixed).toList();
        if (!fixed.isEmpty()) {
            throw new ConfigChangeRefusedException(what + " was made with other model settings, which a model cannot"
                    + " change: " + fixed + "; restore it with the settings it was made with, or use a new --model-id",
                    changes);
        }
        if (!changes.isEmpty() && !allowChange) {
            throw new ConfigChangeRefusedException(what + " was made with other learner settings: " + changes
                    + "; restore it with the settings it was made with, or pass --allow-config-change to train it on"
                    + " under the new ones", changes);
        }
        return changes;
    }

    /**
     * A restore refused because the configuration changed: not damage, and not a reason to fall back to an older
     * snapshot (it was made with the same settings), but for the operator to decide.
     */
    public static final class ConfigChangeRefusedException extends StateMismatchException {
        private static final long serialVersionUID = 1L;
        private final transient List<Change> changes;

        public ConfigChangeRefusedException(final String message, final List<Change> changes) {
            super(message);
            this.changes = List.copyOf(changes);
        }

        /** Every differing setting. */
        public List<Change> changes() {
            return changes;
        }
    }
}
