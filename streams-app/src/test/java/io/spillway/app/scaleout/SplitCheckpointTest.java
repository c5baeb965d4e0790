package io.spillway.app.scaleout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.InvalidStateException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A split snapshot's payload is decoded with every count bounded and every value checked. */
class SplitCheckpointTest {

    private interface Body {
        void write(DataOutputStream out) throws Exception;
    }

    private static byte[] payload(final Body body) throws Exception {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(SplitCheckpoint.FORMAT_V1); // the body's checks are the same in v2, after its settings block
            out.writeUTF("deltas");
            body.write(out);
        }
        return bytes.toByteArray();
    }

    @Test
    void roundTrips() throws Exception {
        final SplitCheckpoint c = new SplitCheckpoint("deltas", Map.of(0, 4L, 1, 9L), Map.of("w", new float[] {1, 2}),
                io.spillway.engine.ConfigProvenance.of(io.spillway.engine.LearnerConfig.builder().build()));
        final SplitCheckpoint back = SplitCheckpoint.decode(c.encode());
        assertThat(back.positions()).isEqualTo(c.positions());
        assertThat(back.weights().get("w")).containsExactly(1, 2);
        assertThat(back.provenance()).isEqualTo(c.provenance());
    }

    @Test
    void refusesDamageNamingWhatIsWrong() throws Exception {
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> out.writeInt(Integer.MAX_VALUE))))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("partition count is 2147483647");
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> {
            out.writeInt(1);
            out.writeInt(-2);
            out.writeLong(3);
            out.writeInt(0);
        }))).isInstanceOf(InvalidStateException.class).hasMessageContaining("position -2@3 is negative");
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> {
            out.writeInt(2);
            out.writeInt(1);
            out.writeLong(3);
            out.writeInt(1);
            out.writeLong(4);
            out.writeInt(0);
        }))).isInstanceOf(InvalidStateException.class).hasMessageContaining("partition 1 twice");
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> {
            out.writeInt(0);
            out.writeInt(1);
            out.writeUTF("w");
            out.writeInt(Integer.MAX_VALUE);
        }))).isInstanceOf(InvalidStateException.class).hasMessageContaining("tensor 'w' has 2147483647 entries");
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> {
            out.writeInt(0);
            out.writeInt(1);
            out.writeUTF("w");
            out.writeInt(2);
            out.writeFloat(1);
            out.writeFloat(Float.NaN);
        }))).isInstanceOf(InvalidStateException.class).hasMessageContaining("tensor 'w'[1] is not finite");
        assertThatThrownBy(() -> SplitCheckpoint.decode(payload(out -> {
            out.writeInt(0);
            out.writeInt(0);
            out.writeByte(7);
        }))).isInstanceOf(InvalidStateException.class).hasMessageContaining("1 bytes after its last tensor");
        assertThatThrownBy(() -> SplitCheckpoint.decode(new byte[] {0, 3, 'a', 'b'}))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("ends early");
    }
}
