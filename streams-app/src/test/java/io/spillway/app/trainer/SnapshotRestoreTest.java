package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Restoring takes the newest snapshot that decodes and validates and falls back to older ones; a refused state
 * leaves the learner as it was; with nothing restorable the model starts fresh, unless a refused snapshot is sound
 * but of another configuration, which stops the start with the reason.
 */
class SnapshotRestoreTest {
    private static final String CHUNKS = "spillway-training-chunks";

    private Learner learner;

    static LearnerConfig config(final int hidden) {
        // the LIF cell: the byte offsets below are of its state's layout
        return LearnerConfig.builder().cell("lif").vocabularySize(8).featureDimension(4).hiddenSize(hidden).optimizer("adam")
                .learningRate(0.01f).backend("cpu").seed(3).build();
    }

    static List<SequenceChunk> batch(final int step) {
        final List<SequenceChunk> batch = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            final List<SparseEvent> events = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                events.add(new SparseEvent((step + i * (k + 1)) % 8, new int[] {k}, new float[] {0.5f},
                        SparseEvent.NO_LABEL));
            }
            batch.add(new SequenceChunk("key-" + k, events));
        }
        return batch;
    }

    static byte[] state(final Learner l) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            l.writeState(out);
        }
        return bytes.toByteArray();
    }

    /** A current-format payload of a state made with {@code config(16)}. */
    static byte[] checkpoint(final long offset, final byte[] learnerState) {
        return checkpoint(offset, learnerState, config(16));
    }

    static byte[] checkpoint(final long offset, final byte[] learnerState, final LearnerConfig madeWith) {
        return new TrainerCheckpoint(CHUNKS, offset, offset * 6, ConfigProvenance.of(madeWith), learnerState).encode();
    }

    /** A payload of format v3, which recorded no learner configuration. */
    static byte[] checkpointV3(final long offset, final byte[] learnerState) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x53505433);
            out.writeUTF(CHUNKS);
            out.writeLong(offset);
            out.writeInt(0);
            out.writeLong(offset * 6);
            out.writeInt(learnerState.length);
            out.write(learnerState);
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @BeforeEach
    void create() {
        learner = Learners.create(config(16));
    }

    @AfterEach
    void close() {
        learner.close();
    }

    /** States of a trainer after 2 and after 4 steps. */
    private static byte[][] trained() throws IOException {
        try (Learner t = Learners.create(config(16))) {
            t.train(batch(0));
            t.train(batch(1));
            final byte[] two = state(t);
            t.train(batch(2));
            t.train(batch(3));
            return new byte[][] {two, state(t)};
        }
    }

    private SnapshotRestore.Outcome<TrainerCheckpoint> restore(final OfflineSnapshots topic) throws IOException {
        return restore(topic, false);
    }

    private SnapshotRestore.Outcome<TrainerCheckpoint> restore(final OfflineSnapshots topic, final boolean allowChange)
            throws IOException {
        return SnapshotRestore.newest(topic, "m", SnapshotRestore.replicated(learner, CHUNKS, allowChange),
                "use a new --model-id");
    }

    @Test
    void aDamagedNewestVersionFallsBackToTheOneBeforeIt() throws IOException {
        final byte[][] states = trained();
        final byte[] nan = states[1].clone();
        ByteBuffer.wrap(nan).putFloat(53 + 4 * 10, Float.NaN); // a weight of layer0.w_in (after a 53-byte header)
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(2, TrainerCheckpoint.FORMAT, checkpoint(2, states[0]), 700)
                .publish(4, TrainerCheckpoint.FORMAT, checkpoint(4, nan), 700);
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(topic);
        assertThat(outcome.snapshot().orElseThrow().version()).isEqualTo(2);
        assertThat(outcome.value().chunkOffset()).isEqualTo(2);
        assertThat(state(learner)).isEqualTo(states[0]);
        assertThat(outcome.refusals()).singleElement().satisfies(r -> {
            assertThat(r.version()).isEqualTo(4);
            assertThat(r.reason()).contains("parameter layer0.w_in[10] is not finite");
            assertThat(r.mismatch()).isFalse();
        });
        learner.train(batch(2)); // trains on
    }

    /**
     * A state training itself produces is never refused: a huge (finite) feature value makes a gradient whose square
     * overflows, so Adam's second moment is +infinity there (the hostile-input campaign's restart met this; refusing
     * it started the model afresh). It restores and trains on.
     */
    @Test
    void aStateWithAnOverflowedSecondMomentRestores() throws IOException {
        final byte[] trained;
        try (Learner t = Learners.create(config(16))) {
            for (int step = 0; step < 3; step++) {
                final List<SequenceChunk> batch = new ArrayList<>(batch(step));
                batch.add(new SequenceChunk("huge", List.of(new SparseEvent(1, new int[] {2}, new float[] {3e37f},
                        SparseEvent.NO_LABEL), new SparseEvent(2, new int[] {2}, new float[] {3e37f}, SparseEvent.NO_LABEL),
                        SparseEvent.ofType(3))));
                t.train(batch);
            }
            trained = state(t);
        }
        final ByteBuffer b = ByteBuffer.wrap(trained);
        boolean infinite = false;
        for (int i = 0; i + 4 <= trained.length && !infinite; i++) {
            infinite = b.getInt(i) == Float.floatToRawIntBits(Float.POSITIVE_INFINITY);
        }
        assertThat(infinite).as("training left an infinite value in the state").isTrue();
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(3, TrainerCheckpoint.FORMAT, checkpoint(3, trained), 1 << 20);
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(topic);
        assertThat(outcome.refusals()).isEmpty();
        assertThat(outcome.snapshot().orElseThrow().version()).isEqualTo(3);
        assertThat(state(learner)).isEqualTo(trained);
        learner.train(batch(4));
    }

    @Test
    void aStateRefusedHalfWayLeavesTheLearnerAsItWas() throws IOException {
        final byte[][] states = trained();
        final byte[] before = state(learner);
        final byte[] damaged = states[1].clone();
        damaged[damaged.length - 20] ^= 0x7f; // in the last carried key's pending event, after the weights
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(4, TrainerCheckpoint.FORMAT, checkpoint(4, damaged), 1 << 20);
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(topic);
        assertThat(outcome.snapshot()).isEmpty();
        assertThat(outcome.refusals()).hasSize(1);
        assertThat(state(learner)).as("rolled back to the fresh state").isEqualTo(before);
    }

    @Test
    void withNothingRestorableTheModelStartsFreshAndSaysWhy() throws IOException {
        final byte[][] states = trained();
        final byte[] trailing = checkpoint(4, java.util.Arrays.copyOf(states[1], states[1].length + 3));
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(3, TrainerCheckpoint.FORMAT, checkpoint(3, states[1]), 1 << 20) // its record says 3, the state 4
                .publish(4, TrainerCheckpoint.FORMAT, trailing, 1 << 20)
                .publish(5, "spillway-trainer-state-v9", checkpoint(4, states[1]), 1 << 20)
                .undecodable(OfflineSnapshots.key("m", 6, 0), "wrong magic byte");
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(topic);
        assertThat(outcome.snapshot()).isEmpty();
        assertThat(outcome.refusals()).extracting(SnapshotRefusal::reason).containsExactly(
                "undecodable: wrong magic byte",
                "chunk 0 is the refused record at model-snapshots-0@" + outcome.refusals().getFirst().offset()
                        + " (undecodable: wrong magic byte)",
                "snapshot version 5 has format spillway-trainer-state-v9, which this version does not know",
                "learner state has 3 bytes after its end",
                "learner state is of model version 4, its snapshot record says 3");
        assertThat(outcome.refusals()).noneMatch(SnapshotRefusal::mismatch);
    }

    /**
     * Provenance: a snapshot made with another learning rate and alpha is refused with both named, and restoring
     * does not fall back past it to an older snapshot that recorded nothing; with the override it restores.
     */
    @Test
    void aSnapshotMadeWithOtherLearnerSettingsIsRefusedNamingThemUnlessAllowed() throws IOException {
        final LearnerConfig before = config(16).toBuilder().learningRate(0.02f).alpha(0.8f).build();
        final byte[] state;
        try (Learner t = Learners.create(before)) {
            for (int step = 0; step < 3; step++) {
                t.train(batch(step));
            }
            state = state(t);
        }
        final byte[] older = trained()[0];
        final java.util.function.Supplier<OfflineSnapshots> topic = () -> new OfflineSnapshots("m",
                SnapshotReader.Limits.forHeap())
                .publish(2, TrainerCheckpoint.FORMAT_V3, checkpointV3(2, older), 1 << 20)
                .publish(3, TrainerCheckpoint.FORMAT, checkpoint(3, state, before), 1 << 20);
        final byte[] untouched = state(learner);
        assertThatThrownBy(() -> restore(topic.get())).isInstanceOf(IOException.class)
                .hasMessageStartingWith("model m cannot be restored: snapshot version 3 was made with other learner"
                        + " settings")
                .hasMessageContaining("alpha 0.8 -> 0.9").hasMessageContaining("learningRate 0.02 -> 0.01")
                .hasMessageContaining("--allow-config-change");
        assertThat(state(learner)).as("nothing restored").isEqualTo(untouched);

        final SnapshotRestore.Outcome<TrainerCheckpoint> allowed = restore(topic.get(), true);
        assertThat(allowed.snapshot()).get().extracting(SnapshotReader.Snapshot::version).isEqualTo(3L);
        assertThat(allowed.value().provenance()).isEqualTo(ConfigProvenance.of(before));
        assertThat(state(learner)).isEqualTo(state);
    }

    /** How the learner runs (backend memory, schedule, carried keys, seed) may change without the override. */
    @Test
    void settingsOfHowTheLearnerRunsMayChangeFreely() throws IOException {
        final LearnerConfig elsewhere = config(16).toBuilder().deviceMemoryBytes(1L << 30).checkpointSchedule("double")
                .maxCarriedKeys(50).seed(99).build();
        final byte[] state = trained()[0];
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(2, TrainerCheckpoint.FORMAT, checkpoint(2, state, elsewhere), 1 << 20);
        assertThat(restore(topic).snapshot()).isPresent();
        assertThat(state(learner)).isEqualTo(state);
    }

    @Test
    void aSoundSnapshotOfAnotherConfigurationStopsTheStartWhenNothingElseRestores() throws IOException {
        final byte[] wider;
        try (Learner other = Learners.create(config(24))) {
            other.train(batch(0));
            wider = state(other);
        }
        final OfflineSnapshots only = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(1, TrainerCheckpoint.FORMAT, checkpoint(1, wider, config(24)), 1 << 20);
        assertThatThrownBy(() -> restore(only, true)).as("allowing a change does not allow another shape")
                .isInstanceOf(IOException.class).hasMessageContaining("hiddenSize 24 -> 16")
                .hasMessageContaining("a model cannot change").hasMessageContaining("use a new --model-id");
        // a format before provenance: the state's own shape check refuses it
        final OfflineSnapshots old = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(1, TrainerCheckpoint.FORMAT_V3, checkpointV3(1, wider), 1 << 20);
        assertThatThrownBy(() -> restore(old)).isInstanceOf(IOException.class)
                .hasMessageContaining("state is for LIF shape [8, 4, 24, 1, 0]").hasMessageContaining("use a new --model-id");

        final OfflineSnapshots split = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(9, SplitCheckpoint.FORMAT, new SplitCheckpoint("deltas", Map.of(), Map.of(),
                        ConfigProvenance.of(config(16))).encode(), 100);
        assertThatThrownBy(() -> restore(split)).isInstanceOf(IOException.class)
                .hasMessageContaining("has format " + SplitCheckpoint.FORMAT);

        final byte[][] states = trained();
        final OfflineSnapshots mixed = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(2, TrainerCheckpoint.FORMAT, checkpoint(2, states[0]), 1 << 20)
                .publish(3, TrainerCheckpoint.FORMAT, new TrainerCheckpoint("other-chunks", 1, 6,
                        ConfigProvenance.of(config(16)), states[1]).encode(),
                        1 << 20);
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(mixed);
        assertThat(outcome.snapshot().orElseThrow().version()).isEqualTo(2);
        assertThat(outcome.refusals()).singleElement().satisfies(r -> {
            assertThat(r.mismatch()).isTrue();
            assertThat(r.reason()).contains("was trained from other-chunks");
        });
    }

    @Test
    void olderCompleteVersionsAreReportedForRetirement() throws IOException {
        final byte[][] states = trained();
        final OfflineSnapshots topic = new OfflineSnapshots("m", SnapshotReader.Limits.forHeap())
                .publish(1, TrainerCheckpoint.FORMAT, checkpoint(1, states[0]), 500)
                .publish(2, TrainerCheckpoint.FORMAT, checkpoint(2, states[0]), 500)
                .publish(4, TrainerCheckpoint.FORMAT, checkpoint(4, states[1]), 500);
        final SnapshotRestore.Outcome<TrainerCheckpoint> outcome = restore(topic);
        assertThat(outcome.snapshot().orElseThrow().version()).isEqualTo(4);
        assertThat(outcome.olderVersions()).containsOnlyKeys(1L, 2L);
    }
}
