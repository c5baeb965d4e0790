package io.spillway.app.trainer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The payload of a snapshot: the learner's full state and where in the chunk log it stands, so that a restart
 * resumes the log exactly after the last chunk the state includes.
 *
 * @param chunkTopic name of the chunk topic the offset refers to
 * @param chunkOffset offset of the first chunk-log entry the state does not include
 * @param eventsTrained events trained into the state since the model was created
 * @param learnerState what {@code Learner.writeState} wrote
 */
public record TrainerCheckpoint(String chunkTopic, long chunkOffset, long eventsTrained, byte[] learnerState) {
    /** Value of the snapshot records' {@code format} field. */
    public static final String FORMAT = "spillway-trainer-state-v2";
    private static final int MAGIC = 0x53505443; // "SPTC"

    public TrainerCheckpoint {
        Objects.requireNonNull(chunkTopic, "chunkTopic");
        Objects.requireNonNull(learnerState, "learnerState");
    }

    public byte[] encode() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(learnerState.length + 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeUTF(chunkTopic);
            out.writeLong(chunkOffset);
            out.writeLong(eventsTrained);
            out.writeInt(learnerState.length);
            out.write(learnerState);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static TrainerCheckpoint decode(final byte[] payload) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a " + FORMAT + " snapshot payload");
            }
            final String topic = in.readUTF();
            final long offset = in.readLong();
            final long events = in.readLong();
            final byte[] state = new byte[in.readInt()];
            in.readFully(state);
            return new TrainerCheckpoint(topic, offset, events, state);
        } catch (final IOException e) {
            throw new IllegalArgumentException("truncated snapshot payload", e);
        }
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof TrainerCheckpoint c && chunkTopic.equals(c.chunkTopic) && chunkOffset == c.chunkOffset
                && eventsTrained == c.eventsTrained && Arrays.equals(learnerState, c.learnerState);
    }

    @Override
    public int hashCode() {
        return Objects.hash(chunkTopic, chunkOffset, eventsTrained, Arrays.hashCode(learnerState));
    }

    @Override
    public String toString() {
        return "TrainerCheckpoint[" + chunkTopic + "@" + chunkOffset + ", " + eventsTrained + " events, "
                + learnerState.length + " B state]";
    }
}
