package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.InvalidStateException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

class TrainerCheckpointTest {

    @Test
    void roundTripsTheOffsetTheEntriesTrainedPastItAndTheState() throws Exception {
        final TrainerCheckpoint c = new TrainerCheckpoint("chunks", 17, new long[] {19, 20, 31}, 12_345, new byte[] {1, 2, 3});
        final TrainerCheckpoint back = TrainerCheckpoint.decode(c.encode());
        assertThat(back).isEqualTo(c);
        assertThat(back.trainedAhead()).containsExactly(19, 20, 31);
        assertThat(back.chunkOffset()).isEqualTo(17);
        assertThat(back.eventsTrained()).isEqualTo(12_345);
    }

    @Test
    void readsTheEarlierFormatAsNothingTrainedPastItsOffset() throws Exception {
        // spillway-trainer-state-v2, as earlier versions wrote it: magic "SPTC", topic, offset, events, state
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x53505443);
            out.writeUTF("chunks");
            out.writeLong(40);
            out.writeLong(999);
            out.writeInt(2);
            out.write(new byte[] {7, 8});
        }
        final TrainerCheckpoint old = TrainerCheckpoint.decode(bytes.toByteArray());
        assertThat(old).isEqualTo(new TrainerCheckpoint("chunks", 40, 999, new byte[] {7, 8}));
        assertThat(old.trainedAhead()).isEmpty();
        assertThat(TrainerCheckpoint.READABLE_FORMATS).contains(TrainerCheckpoint.FORMAT, "spillway-trainer-state-v2");
    }

    @Test
    void rejectsOffsetsTrainedAheadThatDoNotAscendPastTheOffset() {
        assertThatThrownBy(() -> new TrainerCheckpoint("chunks", 10, new long[] {10}, 0, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascend");
        assertThatThrownBy(() -> new TrainerCheckpoint("chunks", 10, new long[] {12, 11}, 0, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrainerCheckpoint.decode(new byte[] {1, 2, 3, 4, 5}))
                .isInstanceOf(InvalidStateException.class);
    }
}
