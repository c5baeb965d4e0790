package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import io.spillway.testing.GoldenFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Golden bytes of the snapshot payloads (docs/formats.md): the trainer checkpoint of replicated training and the
 * split checkpoint, each around the state of a small real model. Every released version must still be restored
 * through the same decoders a start uses; the current versions must also be written byte for byte as checked in.
 * A reader that changes incompatibly fails here; a writer that changes needs a new format name, a new golden file,
 * and the old file kept, still read.
 *
 * <p>To write the files of a new format: {@code java -cp <test classpath> io.spillway.app.trainer.SnapshotFormatsGoldenTest
 * streams-app/src/test/resources/golden} (files already there are left alone).
 */
class SnapshotFormatsGoldenTest {
    static final String CHUNK_TOPIC = "app-chunks";
    static final String DELTA_TOPIC = "model-deltas";

    /** The model inside the golden snapshots. */
    static LearnerConfig config() {
        return LearnerConfig.builder().vocabularySize(4).featureDimension(0).hiddenSize(5).backend("cpu")
                .optimizer("adam").learningRate(0.05f).seed(3).build();
    }

    /** A learner of {@link #config()} after three steps on two keys (model version 3). */
    static Learner trained() {
        final Learner learner = Learners.create(config());
        for (int step = 0; step < 3; step++) {
            final List<SparseEvent> a = new ArrayList<>();
            final List<SparseEvent> b = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                a.add(SparseEvent.ofType((step + i) % 4));
                b.add(SparseEvent.ofType((3 * i + step) % 4));
            }
            learner.train(List.of(new SequenceChunk("a", a), new SequenceChunk("b", b)));
        }
        return learner;
    }

    static byte[] state(final Learner learner) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            learner.writeState(out);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static TrainerCheckpoint trainerCheckpoint(final Learner learner) {
        return new TrainerCheckpoint(CHUNK_TOPIC, 17, new long[] {19, 22}, 30, ConfigProvenance.of(config()),
                state(learner));
    }

    static SplitCheckpoint splitCheckpoint(final Learner learner) {
        return new SplitCheckpoint(DELTA_TOPIC, Map.of(0, 12L, 1, 9L), new TreeMap<>(learner.parameters()),
                ConfigProvenance.of(config()));
    }

    static Map<String, byte[]> files() {
        try (Learner learner = trained()) {
            final Map<String, byte[]> files = new LinkedHashMap<>();
            files.put("trainer-state-v4.bin", trainerCheckpoint(learner).encode());
            files.put("split-weights-v2.bin", splitCheckpoint(learner).encode());
            return files;
        }
    }

    static byte[] golden(final String file) {
        return GoldenFiles.read(file);
    }

    private static SnapshotReader.Snapshot snapshot(final String format, final long version, final byte[] payload) {
        return new SnapshotReader.Snapshot(version, payload, 1, format);
    }

    /**
     * A learner restored from a golden payload holds exactly the learner state inside it (read back through the
     * learner's own writer, whose format {@code LearnerStateGoldenTest} pins). The golden files were written by a
     * model trained with the numerics of their day, so the tests compare with what the files hold, never with a
     * model trained now.
     */
    /**
     * The learner holds exactly the state the payload carries: a learner state of format 3 (from before the
     * prediction mixture), which a learner reading it directly writes back as the restored one does.
     */
    private static void assertRestoredExactly(final Learner restored, final byte[] learnerState) throws IOException {
        assertThat(learnerState).startsWith(0x53, 0x50, 0x57, 0x4C, 0, 0, 0, 3);
        try (Learner direct = Learners.create(config())) {
            direct.readState(new java.io.DataInputStream(new java.io.ByteArrayInputStream(learnerState)));
            assertThat(state(restored)).isEqualTo(state(direct));
        }
    }

    @Test
    void aGoldenTrainerCheckpointV3IsRestoredWithItsPositionAndModel() throws IOException {
        final byte[] bytes = golden("trainer-state-v3.bin");
        try (Learner restored = Learners.create(config())) {
            final TrainerCheckpoint c = SnapshotRestore.replicated(restored, CHUNK_TOPIC)
                    .restore(snapshot(TrainerCheckpoint.FORMAT_V3, 3, bytes));
            assertThat(c.chunkTopic()).isEqualTo(CHUNK_TOPIC);
            assertThat(c.chunkOffset()).isEqualTo(17);
            assertThat(c.trainedAhead()).containsExactly(19, 22);
            assertThat(c.eventsTrained()).isEqualTo(30);
            assertThat(c.provenance()).as("v3 recorded no configuration").isNull();
            assertThat(restored.version()).isEqualTo(3);
            assertRestoredExactly(restored, c.learnerState());
        }
    }

    @Test
    void aGoldenTrainerCheckpointV4IsRestoredWithItsProvenanceAndWrittenTheSame() throws IOException {
        final byte[] bytes = golden("trainer-state-v4.bin");
        try (Learner restored = Learners.create(config())) {
            // other defaults may have moved since the file was written: what it recorded is checked below
            final TrainerCheckpoint c = SnapshotRestore.replicated(restored, CHUNK_TOPIC, true)
                    .restore(snapshot(TrainerCheckpoint.FORMAT, 3, bytes));
            assertThat(c.chunkOffset()).isEqualTo(17);
            assertThat(c.trainedAhead()).containsExactly(19, 22);
            assertThat(c.eventsTrained()).isEqualTo(30);
            assertThat(c.provenance().settings()).containsEntry("vocabularySize", "4").containsEntry("hiddenSize", "5")
                    .containsEntry("cell", "egru").containsEntry("optimizer", "adam").containsEntry("learningRate", "0.05")
                    .containsEntry("seed", "3").containsEntry("backend", "cpu").hasSize(29);
            assertThat(restored.version()).isEqualTo(3);
            assertRestoredExactly(restored, c.learnerState());
            assertThat(new TrainerCheckpoint(c.chunkTopic(), c.chunkOffset(), c.trainedAhead(), c.eventsTrained(),
                    c.provenance(), c.learnerState()).encode()).as("the current writer").isEqualTo(bytes);
        }
    }

    @Test
    void aGoldenSplitCheckpointV1IsRestoredToItsWeights() throws IOException {
        final byte[] bytes = golden("split-weights-v1.bin");
        try (Learner restored = Learners.create(config())) {
            final SplitCheckpoint c = SnapshotRestore.split(restored, DELTA_TOPIC)
                    .restore(snapshot(SplitCheckpoint.FORMAT_V1, 21, bytes));
            assertThat(c.provenance()).as("v1 recorded no configuration").isNull();
            assertThat(c.positions()).isEqualTo(Map.of(0, 12L, 1, 9L));
            assertThat(c.logVersion()).isEqualTo(21);
            assertThat(restored.parameters()).containsOnlyKeys(c.weights().keySet());
            // applying the weights moves the learner there within float rounding
            c.weights().forEach((name, w) -> assertThat(restored.parameters().get(name))
                    .containsExactly(w, org.assertj.core.data.Offset.offset(1e-6f)));
        }
    }

    @Test
    void aGoldenSplitCheckpointV2IsRestoredWithItsProvenanceAndWrittenTheSame() throws IOException {
        final byte[] bytes = golden("split-weights-v2.bin");
        try (Learner restored = Learners.create(config())) {
            final SplitCheckpoint c = SnapshotRestore.split(restored, DELTA_TOPIC, true)
                    .restore(snapshot(SplitCheckpoint.FORMAT, 21, bytes));
            assertThat(c.positions()).isEqualTo(Map.of(0, 12L, 1, 9L));
            assertThat(c.provenance().settings()).containsEntry("hiddenSize", "5").containsEntry("cell", "egru")
                    .hasSize(29);
            c.weights().forEach((name, w) -> assertThat(restored.parameters().get(name))
                    .containsExactly(w, org.assertj.core.data.Offset.offset(1e-6f)));
            assertThat(new SplitCheckpoint(c.deltaTopic(), c.positions(), c.weights(), c.provenance()).encode())
                    .as("the current writer").isEqualTo(bytes);
        }
    }

    /** Writes the golden files missing in the directory given (see the class comment). */
    public static void main(final String[] args) throws IOException {
        GoldenFiles.writeMissing(Path.of(args[0]), files());
    }
}
