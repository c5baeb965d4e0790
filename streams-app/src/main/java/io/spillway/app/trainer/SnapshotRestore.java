package io.spillway.app.trainer;

import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.InvalidStateException;
import io.spillway.engine.Learner;
import io.spillway.engine.StateMismatchException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a model from the newest snapshot version that decodes and validates, falling back to older versions:
 * a damaged version never stops a start. What happens when none can be restored depends on why: if any refused
 * version is sound but of another configuration (another model shape, optimizer, training mode or topic) or too
 * big for this JVM, starting fresh would lose or shadow a real model under its id, so restoring fails with the
 * reason; otherwise the model starts fresh, logged as an error naming every refused version.
 *
 * <p>Provenance: a snapshot records the learner configuration it was made with ({@link ConfigProvenance}); one made
 * with other settings than the learner's is refused with the settings named, and restoring stops there instead of
 * falling back to an older snapshot (made with the same settings): a start then fails, for the operator to decide.
 * Settings of how the learner runs may change freely; its shape, cell and optimizer never; the others only when the
 * caller allows it ({@code --allow-config-change}), logged as a warning.
 */
public final class SnapshotRestore {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotRestore.class);

    private SnapshotRestore() {
    }

    /** Turns a snapshot into what the caller restores; throws to refuse it. */
    @FunctionalInterface
    public interface Decoder<T> {
        /**
         * @throws StateMismatchException when the snapshot is sound but of another configuration
         * @throws IOException when it is damaged, saying why
         */
        T restore(SnapshotReader.Snapshot snapshot) throws IOException;
    }

    /**
     * What restoring found.
     *
     * @param snapshot the version restored, empty when none could be
     * @param value what the decoder made of it (null when none)
     * @param refusals every record and version refused while reading
     * @param olderVersions complete versions older than the one restored (version to chunk count), which the
     *     trainer may retire once newer ones are published
     */
    public record Outcome<T>(Optional<SnapshotReader.Snapshot> snapshot, T value, List<SnapshotRefusal> refusals,
                             Map<Long, Integer> olderVersions) {
    }

    /**
     * Offers the reader's versions, newest first, to {@code decoder} until one is accepted.
     *
     * @param advice what to do when only snapshots of another configuration exist, for the error
     * @throws IOException when no version could be restored and one of them was of another configuration
     */
    public static <T> Outcome<T> newest(final SnapshotSource reader, final String modelId, final Decoder<T> decoder,
                                        final String advice) throws IOException {
        for (Optional<SnapshotReader.Snapshot> s = reader.next(); s.isPresent(); s = reader.next()) {
            try {
                final T value = decoder.restore(s.get());
                final List<SnapshotRefusal> refusals = List.copyOf(reader.refusals());
                if (refusals.stream().anyMatch(SnapshotRefusal::ofVersion)) {
                    LOG.warn("Restored model {} from snapshot version {}, after refusing {}", modelId,
                            s.get().version(), refusals.stream().filter(SnapshotRefusal::ofVersion).toList());
                }
                return new Outcome<>(s, value, refusals, reader.olderVersions());
            } catch (final ConfigProvenance.ConfigChangeRefusedException e) {
                reader.refuse(s.get(), e.getMessage(), true);
                throw new IOException("model " + modelId + " cannot be restored: " + e.getMessage(), e);
            } catch (final StateMismatchException e) {
                reader.refuse(s.get(), e.getMessage(), true);
            } catch (final IOException | RuntimeException e) {
                reader.refuse(s.get(), reason(e), false);
            }
        }
        final List<SnapshotRefusal> refusals = List.copyOf(reader.refusals());
        final SnapshotRefusal mismatch = refusals.stream().filter(SnapshotRefusal::mismatch).findFirst().orElse(null);
        if (mismatch != null) {
            throw new IOException("no snapshot of model " + modelId + " can be restored, and " + mismatch + "; "
                    + advice);
        }
        if (refusals.stream().anyMatch(SnapshotRefusal::ofVersion)) {
            LOG.error("Model {} starts fresh: none of its snapshots could be restored ({} refused: {})", modelId,
                    refusals.size(), refusals);
        }
        return new Outcome<>(Optional.empty(), null, refusals, Map.of());
    }

    private static String reason(final Exception e) {
        final String message = e.getMessage() == null ? "" : ": " + e.getMessage();
        return e instanceof InvalidStateException ? e.getMessage() : e.getClass().getSimpleName() + message;
    }

    /**
     * Requires the snapshot's format to be one of {@code readable}; one of {@code otherMode} is a mismatch (a
     * model trained the other way), anything else damage.
     */
    public static void requireFormat(final SnapshotReader.Snapshot s, final Set<String> readable,
                                     final Set<String> otherMode) throws InvalidStateException {
        if (readable.contains(s.format())) {
            return;
        }
        final String what = "snapshot version " + s.version() + " has format " + s.format();
        throw otherMode.contains(s.format()) ? new StateMismatchException(what) : new InvalidStateException(what
                + ", which this version does not know");
    }

    /**
     * A decoder for a reader that does not train (a follower): like {@link #replicated(Learner, String, boolean)}, with
     * learner settings other than the model's shape, cell and optimizer free to differ from the snapshot's.
     */
    public static Decoder<TrainerCheckpoint> replicated(final Learner learner, final String chunkTopic) {
        return replicated(learner, chunkTopic, true);
    }

    /**
     * A decoder for replicated training: the checkpoint's learner state is read into {@code learner}, which is
     * rolled back to its previous state if anything is refused.
     *
     * @param chunkTopic the chunk topic the checkpoint must refer to, or null to accept any (a follower)
     * @param allowConfigChange restore a snapshot made with other learner settings (not its shape, cell or
     *        optimizer), with a warning naming them
     */
    public static Decoder<TrainerCheckpoint> replicated(final Learner learner, final String chunkTopic,
                                                        final boolean allowConfigChange) {
        return s -> {
            requireFormat(s, TrainerCheckpoint.READABLE_FORMATS, SplitCheckpoint.READABLE_FORMATS);
            final TrainerCheckpoint checkpoint = TrainerCheckpoint.decode(s.state());
            if (chunkTopic != null && !checkpoint.chunkTopic().equals(chunkTopic)) {
                throw new StateMismatchException("snapshot version " + s.version() + " was trained from "
                        + checkpoint.chunkTopic() + ", not this application's " + chunkTopic);
            }
            checkProvenance(checkpoint.provenance(), learner, allowConfigChange, s);
            readState(learner, checkpoint.learnerState(), s.version());
            return checkpoint;
        };
    }

    /**
     * A decoder for a reader that does not train (a follower): like {@link #split(Learner, String, boolean)}, with
     * learner settings other than the model's shape, cell and optimizer free to differ from the snapshot's.
     */
    public static Decoder<SplitCheckpoint> split(final Learner learner, final String deltaTopic) {
        return split(learner, deltaTopic, true);
    }

    /**
     * A decoder for split training: the checkpoint's weights are moved into {@code learner}.
     *
     * @param deltaTopic the delta topic the checkpoint must follow, or null to accept any
     * @param allowConfigChange restore a snapshot made with other learner settings (not its shape, cell or
     *        optimizer), with a warning naming them
     */
    public static Decoder<SplitCheckpoint> split(final Learner learner, final String deltaTopic,
                                                 final boolean allowConfigChange) {
        return s -> {
            requireFormat(s, SplitCheckpoint.READABLE_FORMATS, TrainerCheckpoint.READABLE_FORMATS);
            final SplitCheckpoint checkpoint = SplitCheckpoint.decode(s.state());
            if (deltaTopic != null && !checkpoint.deltaTopic().equals(deltaTopic)) {
                throw new StateMismatchException("snapshot version " + s.version() + " follows the delta topic "
                        + checkpoint.deltaTopic() + ", not " + deltaTopic);
            }
            checkProvenance(checkpoint.provenance(), learner, allowConfigChange, s);
            checkpoint.applyTo(learner);
            return checkpoint;
        };
    }

    /**
     * Refuses a snapshot made with other learner settings (see the class comment); one of a format that did not
     * record them restores unchecked, as it did.
     */
    private static void checkProvenance(final ConfigProvenance provenance, final Learner learner,
                                        final boolean allowChange, final SnapshotReader.Snapshot s)
            throws ConfigProvenance.ConfigChangeRefusedException {
        if (provenance == null) {
            LOG.info("Snapshot version {} ({}) records no learner configuration; restoring it unchecked", s.version(),
                    s.format());
            return;
        }
        final List<ConfigProvenance.Change> changes = provenance.check(learner.config(), allowChange,
                "snapshot version " + s.version());
        if (!changes.isEmpty()) {
            LOG.warn("Restoring snapshot version {}, made with other learner settings (allowed): {}", s.version(),
                    changes);
        }
    }

    /**
     * Reads {@code state} into {@code learner}, all of it or nothing: if it is refused (damaged, of another
     * shape, with bytes left over, or of another version than its snapshot record says), the learner is put back
     * as it was and the refusal rethrown. Holds one copy of the learner's previous state meanwhile.
     *
     * @param version the version the snapshot record names, or -1 to accept any
     */
    public static void readState(final Learner learner, final byte[] state, final long version) throws IOException {
        final ByteArrayOutputStream previous = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(previous)) {
            learner.writeState(out);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            learner.readState(in);
            if (in.available() > 0) {
                throw new InvalidStateException("learner state has " + in.available() + " bytes after its end");
            }
            if (version >= 0 && learner.version() != version) {
                throw new InvalidStateException("learner state is of model version " + learner.version()
                        + ", its snapshot record says " + version);
            }
        } catch (final IOException | RuntimeException e) {
            try (DataInputStream back = new DataInputStream(new ByteArrayInputStream(previous.toByteArray()))) {
                learner.readState(back);
            }
            if (e instanceof EOFException) {
                throw new InvalidStateException("learner state ends early (truncated)", e);
            }
            throw e;
        }
    }
}
