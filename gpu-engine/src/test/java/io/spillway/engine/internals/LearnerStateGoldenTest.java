package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden bytes of the learner state (format 4, with each key's mixture context and the mixture's block;
 * docs/formats.md), one file per cell and
 * optimizer family, written by this version's {@code writeState} after a few steps of a small model and checked in
 * under {@code src/test/resources/golden/}. Each must still be read by a learner of its configuration and written
 * back to the same bytes: a reader or writer that changes the layout fails here, and then needs a new format
 * number, a new golden file, and the old file kept with a test that still reads it (format 3's are: the network
 * they hold restores exactly, the mixture starts afresh).
 *
 * <p>To write the files of a new format: {@code java -cp <test classpath> io.spillway.engine.internals.LearnerStateGoldenTest
 * gpu-engine/src/test/resources/golden} (files already there are left alone).
 */
class LearnerStateGoldenTest {

    /** A golden state: the file and the configuration it was written with. */
    record Golden(String file, LearnerConfig config, long version) {
        @Override
        public String toString() {
            return file;
        }
    }

    static LearnerConfig.Builder small(final String cell, final String optimizer) {
        return LearnerConfig.builder().vocabularySize(5).featureDimension(3).hiddenSize(6).cell(cell)
                .optimizer(optimizer).backend("cpu").seed(19).maxCarriedKeys(8);
    }

    static List<Golden> goldens() {
        return goldens(4);
    }

    /** The golden files of {@code format}: the same configurations, trained alike, in each format. */
    static List<Golden> goldens(final int format) {
        final List<Golden> g = new ArrayList<>();
        for (final String optimizer : List.of("sgd", "adam", "mfac", "mfac-sparse", "mfac-sparse-no-ef",
                "mfac-lowrank", "ggt", "ggt-sparse")) {
            g.add(new Golden("learner-state-v" + format + "-egru-" + optimizer + ".bin", small("egru", optimizer)
                    .build(), 4));
        }
        g.add(new Golden("learner-state-v" + format + "-lif-mfac-sparse.bin", small("lif", "mfac-sparse").build(), 4));
        g.add(new Golden("learner-state-v" + format + "-lif-adaptive-adam.bin", small("lif", "adam").adaptation(0.2f)
                .build(), 4));
        return g;
    }

    static byte[] golden(final String file) throws IOException {
        try (InputStream in = LearnerStateGoldenTest.class.getResourceAsStream("/golden/" + file)) {
            assertThat(in).as("golden file %s is checked in", file).isNotNull();
            return in.readAllBytes();
        }
    }

    /** Four steps on two keys, the second of which ends with a pending event with features. */
    static byte[] write(final LearnerConfig config) {
        try (Learner learner = Learners.create(config)) {
            for (int step = 0; step < 4; step++) {
                final List<SparseEvent> a = new ArrayList<>();
                final List<SparseEvent> b = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    a.add(SparseEvent.ofType((step + i) % 5));
                    b.add(new SparseEvent((2 * i + step) % 5, new int[] {0, 2}, new float[] {0.5f, -1.25f},
                            i == 3 ? 1 : SparseEvent.NO_LABEL));
                }
                learner.train(List.of(new SequenceChunk("a", a), new SequenceChunk("key-b", b)));
            }
            return state(learner);
        }
    }

    private static byte[] state(final Learner learner) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            learner.writeState(out);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Stream<Golden> files() {
        return goldens().stream();
    }

    static Stream<Golden> formatThreeFiles() {
        return goldens(3).stream();
    }

    /**
     * A state from before the prediction mixture restores: the same network as the same training's format-4 state
     * holds (the mixture does not touch the network), with a fresh mixture; written back, it is format 4.
     */
    @ParameterizedTest
    @MethodSource("formatThreeFiles")
    void aFormatThreeStateStillRestores(final Golden golden) throws IOException {
        final byte[] v3 = golden(golden.file());
        assertThat(v3).startsWith(0x53, 0x50, 0x57, 0x4C, 0, 0, 0, 3);
        final byte[] v4 = golden(golden.file().replace("-v3-", "-v4-"));
        try (Learner old = Learners.create(golden.config()); Learner now = Learners.create(golden.config())) {
            try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(v3))) {
                old.readState(in);
                assertThat(in.available()).as("bytes after the state").isZero();
            }
            now.readState(new DataInputStream(new java.io.ByteArrayInputStream(v4)));
            assertThat(old.version()).isEqualTo(golden.version());
            assertThat(old.parameters()).containsOnlyKeys(now.parameters().keySet());
            now.parameters().forEach((name, w) -> assertThat(old.parameters().get(name)).as(name).containsExactly(w));
            assertThat(((SpikingLearner) old).mixturePairs()).isZero();
            assertThat(((SpikingLearner) now).mixturePairs()).isPositive();
            assertThat(state(old)).startsWith(0x53, 0x50, 0x57, 0x4C, 0, 0, 0, 4);
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void aGoldenStateIsReadAndWrittenBackToTheSameBytes(final Golden golden) throws IOException {
        final byte[] bytes = golden(golden.file());
        assertThat(bytes).startsWith(0x53, 0x50, 0x57, 0x4C, 0, 0, 0, 4); // "SPWL", format 4
        try (Learner learner = Learners.create(golden.config())) {
            try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
                learner.readState(in);
                assertThat(in.available()).as("bytes after the state").isZero();
            }
            assertThat(learner.version()).isEqualTo(golden.version());
            assertThat(state(learner)).as("written back").isEqualTo(bytes);
        }
    }

    /** Writes the golden files missing in the directory given (see the class comment). */
    public static void main(final String[] args) throws IOException {
        final Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (final Golden g : goldens()) {
            final Path file = dir.resolve(g.file());
            if (!Files.exists(file)) {
                Files.write(file, write(g.config()));
                System.out.println("wrote " + file);
            }
        }
    }
}
