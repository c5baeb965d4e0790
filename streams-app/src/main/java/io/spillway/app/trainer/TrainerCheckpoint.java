package io.spillway.app.trainer;

import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.InvalidStateException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * The payload of a snapshot: the learner's full state and where in the chunk log it stands, so that a restart
 * resumes the log exactly after the last chunk the state includes.
 *
 * <p>A training step may take chunks from a little further down the log than its first untrained entry (see
 * {@link TrainerSettings#batchLookahead()}), so "where it stands" is an offset plus the few entries past it that
 * the state already includes.
 *
 * @param chunkTopic name of the chunk topic the offset refers to
 * @param chunkOffset offset of the first chunk-log entry the state does not include
 * @param trainedAhead offsets after {@code chunkOffset} the state includes nonetheless, ascending
 * @param eventsTrained events trained into the state since the model was created
 * @param provenance the learner configuration the state was made with; null when read from a format before v4,
 *        which did not record it
 * @param learnerState what {@code Learner.writeState} wrote
 */
public record TrainerCheckpoint(String chunkTopic, long chunkOffset, long[] trainedAhead, long eventsTrained,
                                ConfigProvenance provenance, byte[] learnerState) {
    /** Value of the snapshot records' {@code format} field. */
    public static final String FORMAT = "spillway-trainer-state-v4";
    /** The format before the learner configuration was recorded; still restored (unchecked). */
    public static final String FORMAT_V3 = "spillway-trainer-state-v3";
    /** The format before trained-ahead offsets (read as none); still restored. */
    public static final String FORMAT_V2 = "spillway-trainer-state-v2";
    /** Formats this version restores. */
    public static final Set<String> READABLE_FORMATS = Set.of(FORMAT, FORMAT_V3, FORMAT_V2);
    private static final int MAGIC_V2 = 0x53505443; // "SPTC"
    private static final int MAGIC_V3 = 0x53505433; // "SPT3"
    private static final int MAGIC = 0x53505434; // "SPT4"

    public TrainerCheckpoint {
        Objects.requireNonNull(chunkTopic, "chunkTopic");
        Objects.requireNonNull(trainedAhead, "trainedAhead");
        Objects.requireNonNull(learnerState, "learnerState");
        for (int i = 0; i < trainedAhead.length; i++) {
            if (trainedAhead[i] <= (i == 0 ? chunkOffset : trainedAhead[i - 1])) {
                throw new IllegalArgumentException("trained-ahead offsets must ascend past " + chunkOffset + ": "
                        + Arrays.toString(trainedAhead));
            }
        }
    }

    /** A checkpoint with nothing trained past its offset. */
    public TrainerCheckpoint(final String chunkTopic, final long chunkOffset, final long eventsTrained,
                             final ConfigProvenance provenance, final byte[] learnerState) {
        this(chunkTopic, chunkOffset, new long[0], eventsTrained, provenance, learnerState);
    }

    /** Writes the current format, {@link #FORMAT}; it needs the provenance (a checkpoint read from v2 or v3 has none). */

    public byte[] encode() {
        if (provenance == null) {
            throw new IllegalStateException("a " + FORMAT + " checkpoint records the learner configuration it was made"
                    + " with, and this one has none");
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(learnerState.length + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeUTF(chunkTopic);
            out.writeLong(chunkOffset);
            out.writeInt(trainedAhead.length);
            for (final long offset : trainedAhead) {
                out.writeLong(offset);
            }
            out.writeLong(eventsTrained);
            provenance.write(out);
            out.writeInt(learnerState.length);
            out.write(learnerState);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a payload written by {@link #encode} (or an earlier format), refusing anything else: counts and
     * lengths are bounded by the bytes that follow before anything is allocated, offsets and counts must not be
     * negative, trained-ahead offsets must ascend past the offset, and nothing may follow the learner state.
     *
     * @throws InvalidStateException naming what is wrong
     */
    public static TrainerCheckpoint decode(final byte[] payload) throws InvalidStateException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
            final int magic = in.readInt();
            if (magic != MAGIC && magic != MAGIC_V3 && magic != MAGIC_V2) {
                throw new InvalidStateException("not a " + FORMAT + " (or " + FORMAT_V3 + ", " + FORMAT_V2
                        + ") snapshot payload: magic " + String.format("0x%08x", magic));
            }
            final String topic = in.readUTF();
            final long offset = in.readLong();
            if (offset < 0) {
                throw new InvalidStateException("snapshot payload's chunk-log offset is negative: " + offset);
            }
            final int aheadCount = magic == MAGIC_V2 ? 0 : in.readInt();
            if (aheadCount < 0 || (long) aheadCount * Long.BYTES > in.available()) {
                throw new InvalidStateException("snapshot payload's trained-ahead count is " + aheadCount + ", but "
                        + in.available() + " bytes follow");
            }
            final long[] ahead = new long[aheadCount];
            for (int i = 0; i < ahead.length; i++) {
                ahead[i] = in.readLong();
                if (ahead[i] <= (i == 0 ? offset : ahead[i - 1])) {
                    throw new InvalidStateException("snapshot payload's trained-ahead offset " + ahead[i] + " does not "
                            + "ascend past " + (i == 0 ? "the offset " + offset : ahead[i - 1]));
                }
            }
            final long events = in.readLong();
            if (events < 0) {
                throw new InvalidStateException("snapshot payload's trained-event count is negative: " + events);
            }
            final ConfigProvenance provenance = magic == MAGIC ? ConfigProvenance.read(in) : null;
            final int length = in.readInt();
            if (length != in.available()) {
                throw new InvalidStateException("snapshot payload's learner state is " + length + " bytes, but "
                        + in.available() + " follow");
            }
            final byte[] state = new byte[length];
            in.readFully(state);
            return new TrainerCheckpoint(topic, offset, ahead, events, provenance, state);
        } catch (final InvalidStateException e) {
            throw e;
        } catch (final IOException e) {
            throw new InvalidStateException("snapshot payload ends early or has a malformed chunk topic name or"
                    + " learner setting: " + e, e);
        }
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof TrainerCheckpoint c && chunkTopic.equals(c.chunkTopic) && chunkOffset == c.chunkOffset
                && Arrays.equals(trainedAhead, c.trainedAhead) && eventsTrained == c.eventsTrained
                && Objects.equals(provenance, c.provenance) && Arrays.equals(learnerState, c.learnerState);
    }

    @Override
    public int hashCode() {
        return Objects.hash(chunkTopic, chunkOffset, Arrays.hashCode(trainedAhead), eventsTrained, provenance,
                Arrays.hashCode(learnerState));
    }

    @Override
    public String toString() {
        return "TrainerCheckpoint[" + chunkTopic + "@" + chunkOffset
                + (trainedAhead.length == 0 ? "" : " and " + Arrays.toString(trainedAhead)) + ", " + eventsTrained + " events, "
                + learnerState.length + " B state]";
    }
}
