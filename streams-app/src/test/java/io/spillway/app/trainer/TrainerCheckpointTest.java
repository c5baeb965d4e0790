package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.InvalidStateException;
import io.spillway.engine.LearnerConfig;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

class TrainerCheckpointTest {
    private static final ConfigProvenance MADE_WITH = ConfigProvenance.of(LearnerConfig.builder().build());

    @Test
    void roundTripsTheOffsetTheEntriesTrainedPastItAndTheState() throws Exception {
        final TrainerCheckpoint c = new TrainerCheckpoint("chunks", 17, new long[] {19, 20, 31}, 12_345, MADE_WITH,
                new byte[] {1, 2, 3});
        final TrainerCheckpoint back = TrainerCheckpoint.decode(c.encode());
        assertThat(back).isEqualTo(c);
        assertThat(back.trainedAhead()).containsExactly(19, 20, 31);
        assertThat(back.chunkOffset()).isEqualTo(17);
        assertThat(back.eventsTrained()).isEqualTo(12_345);
        assertThat(back.provenance()).isEqualTo(MADE_WITH);
        assertThat(back.provenance().settings()).containsEntry("hiddenSize", "128").hasSize(30);
    }

    @Test
    void theCurrentFormatNeedsTheLearnerConfiguration() {
        assertThatThrownBy(() -> new TrainerCheckpoint("chunks", 1, 1, null, new byte[0]).encode())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("learner configuration");
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
        assertThat(old).isEqualTo(new TrainerCheckpoint("chunks", 40, 999, null, new byte[] {7, 8}));
        assertThat(old.trainedAhead()).isEmpty();
        assertThat(TrainerCheckpoint.READABLE_FORMATS).contains(TrainerCheckpoint.FORMAT, "spillway-trainer-state-v2");
    }

    @Test
    void rejectsOffsetsTrainedAheadThatDoNotAscendPastTheOffset() {
        assertThatThrownBy(() -> new TrainerCheckpoint("chunks", 10, new long[] {10}, 0, MADE_WITH, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascend");
        assertThatThrownBy(() -> new TrainerCheckpoint("chunks", 10, new long[] {12, 11}, 0, MADE_WITH, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TrainerCheckpoint.decode(new byte[] {1, 2, 3, 4, 5}))
                .isInstanceOf(InvalidStateException.class);
    }

    /** The bytes of a v3 payload with the given fields, the learner state declared {@code stateLength} long. */
    private static byte[] payload(final long offset, final int aheadCount, final long[] ahead, final long events,
                                  final int stateLength, final byte[] state) throws Exception {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x53505433);
            out.writeUTF("chunks");
            out.writeLong(offset);
            out.writeInt(aheadCount);
            for (final long a : ahead) {
                out.writeLong(a);
            }
            out.writeLong(events);
            out.writeInt(stateLength);
            out.write(state);
        }
        return bytes.toByteArray();
    }

    @Test
    void refusesLengthsAndCountsThePayloadCannotHoldNamingThem() throws Exception {
        assertThat(TrainerCheckpoint.decode(payload(5, 1, new long[] {6}, 10, 2, new byte[] {1, 2})).learnerState())
                .containsExactly(1, 2);
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, 0, new long[0], 10, Integer.MAX_VALUE, new byte[2])))
                .isInstanceOf(InvalidStateException.class)
                .hasMessageContaining("learner state is 2147483647 bytes, but 2 follow");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, 0, new long[0], 10, -1, new byte[2])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("learner state is -1 bytes");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, 0, new long[0], 10, 1, new byte[2])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("learner state is 1 bytes, but 2 follow");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, Integer.MAX_VALUE, new long[0], 10, 0, new byte[0])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("trained-ahead count is 2147483647");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, -3, new long[0], 10, 0, new byte[0])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("trained-ahead count is -3");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(-5, 0, new long[0], 10, 0, new byte[0])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("chunk-log offset is negative: -5");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, 0, new long[0], -10, 0, new byte[0])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("trained-event count is negative");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(payload(5, 2, new long[] {7, 7}, 10, 0, new byte[0])))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("trained-ahead offset 7 does not ascend");
        final byte[] whole = payload(5, 1, new long[] {6}, 10, 2, new byte[] {1, 2});
        for (int cut = 0; cut < whole.length; cut++) {
            final byte[] part = java.util.Arrays.copyOf(whole, cut);
            assertThatThrownBy(() -> TrainerCheckpoint.decode(part)).isInstanceOf(InvalidStateException.class)
                    .hasMessageContaining("snapshot payload");
        }
    }

    /** A v4 payload whose learner-settings block is {@code settings} (raw). */
    private static byte[] v4(final java.util.function.Consumer<DataOutputStream> settings) throws Exception {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x53505434);
            out.writeUTF("chunks");
            out.writeLong(5);
            out.writeInt(0);
            out.writeLong(10);
            settings.accept(out);
            out.writeInt(1);
            out.write(9);
        }
        return bytes.toByteArray();
    }

    @Test
    void refusesADamagedLearnerSettingsBlockNamingIt() throws Exception {
        final TrainerCheckpoint ok = TrainerCheckpoint.decode(v4(out -> write(out, 1, "alpha", "0.9")));
        assertThat(ok.provenance().settings()).isEqualTo(java.util.Map.of("alpha", "0.9"));
        assertThat(ok.learnerState()).containsExactly(9);
        assertThatThrownBy(() -> TrainerCheckpoint.decode(v4(out -> write(out, -1))))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("learner settings count is -1");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(v4(out -> write(out, 1 << 20))))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("learner settings count is 1048576");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(v4(out -> write(out, 2, "alpha", "0.9", "alpha", "0.8"))))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("learner setting 'alpha' is recorded twice");
        assertThatThrownBy(() -> TrainerCheckpoint.decode(v4(out -> write(out, 2, "alpha", "0.9"))))
                .as("a count past the settings").isInstanceOf(InvalidStateException.class)
                .hasMessageContaining("snapshot payload");
    }

    private static void write(final DataOutputStream out, final int count, final String... pairs) {
        try {
            out.writeInt(count);
            for (final String s : pairs) {
                out.writeUTF(s);
            }
        } catch (final java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
