package io.spillway.engine.model.egru;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.CheckpointExecutor;
import io.spillway.engine.checkpoint.Schedule;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The EGRU under every schedule of the executor (docs/spec-double-checkpointing.md P1, P9, P12): gradients, loss and predictions bitwise equal
 * to full BPTT, with two layers, batch 4 with ragged lengths, sparse features, the activity regulariser, learned
 * thresholds and intervals that do not divide T; states spilled through the lossless codec to host memory or a
 * mapped file; recompute-ahead on a second thread, and off.
 */
class EgruScheduleEquivalenceTest {
    private static final EgruSettings SETTINGS = new EgruSettings(6, 5, 40, 2, 0.3f, 1f, 0.2f, 0.5f, 0f,
            EgruSettings.Readout.CELL, true);

    @TempDir
    Path dir;

    private record Outcome(float[] grad, double loss, int correct, int[] predicted, EgruState end, long forwardSteps) {
    }

    private Outcome train(final Schedule schedule, final boolean mapped, final boolean ahead) {
        final EgruFixture fx = new EgruFixture(SETTINGS, new int[] {37, 30, 37, 12}, 17L, 3f);
        try (CpuBackend backend = new CpuBackend();
             CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(),
                     mapped ? OffChipStores.mappedFile(dir) : OffChipStores.hostMemory(), true, ahead)) {
            final float[] grad = new float[fx.params.size()];
            final EgruWindow window = fx.window(backend, grad);
            final CheckpointExecutor.Result<EgruState> r = executor.run(window, fx.initial, 37, schedule);
            final int[] predicted = new int[37 * 4];
            for (int t = 0; t < 37; t++) {
                for (int b = 0; b < 4; b++) {
                    predicted[t * 4 + b] = window.predicted(t, b);
                }
            }
            window.release();
            return new Outcome(grad, window.lossSum(), window.correct(), predicted, r.finalState(),
                    window.forwardSteps());
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} mapped={3} ahead={4}")
    @CsvSource({"uniform, 5, 0, false, true", "remote, 12, 0, false, true", "double, 12, 5, false, true",
        "double, 12, 5, true, true", "double, 10, 3, false, false", "double, 37, 6, false, true",
        "double, 20, 1, true, true", "double, 9, 9, false, true", "uniform, 7, 0, true, false"})
    void everyScheduleMatchesBpttBitwise(final String kind, final int a, final int b, final boolean mapped,
                                         final boolean ahead) {
        final Outcome bptt = train(new Schedule.Bptt(), false, false);
        final Schedule schedule = switch (kind) {
            case "uniform" -> new Schedule.Uniform(a);
            case "remote" -> new Schedule.Remote(a);
            default -> new Schedule.DoubleCheckpoint(a, b);
        };
        final Outcome other = train(schedule, mapped, ahead);
        assertThat(other.grad()).containsExactly(bptt.grad());
        assertThat(other.loss()).isEqualTo(bptt.loss());
        assertThat(other.correct()).isEqualTo(bptt.correct());
        assertThat(other.predicted()).containsExactly(bptt.predicted());
        assertThat(other.end().sameAs(bptt.end())).isTrue();
        assertThat(other.forwardSteps()).isGreaterThan(bptt.forwardSteps()); // it did recompute
        assertThat(bptt.end().eventCount()).isPositive();
    }

    @Test
    void codecRoundTripsStatesBitwiseAndBoundsEveryRecord() {
        final EgruFixture fx = new EgruFixture(SETTINGS, new int[] {5, 5, 5, 5}, 3L, 3f);
        final EgruStateCodec codec = new EgruStateCodec(4, 2, 40);
        final ByteBuffer out = ByteBuffer.allocate(codec.maxEncodedBytes());
        final int written = codec.encode(fx.initial, out);
        assertThat(written).isEqualTo(codec.encodedBytes(fx.initial)).isLessThanOrEqualTo(codec.maxEncodedBytes());
        out.flip();
        assertThat(codec.decode(out).sameAs(fx.initial)).isTrue();
        // a dense record (every unit emitted) still fits: the bitmap caps the id block
        final int[][] all = new int[8][];
        for (int p = 0; p < 8; p++) {
            all[p] = java.util.stream.IntStream.range(0, 40).toArray();
        }
        final EgruState dense = new EgruState(4, 2, 40, new float[320], all);
        final ByteBuffer denseOut = ByteBuffer.allocate(codec.maxEncodedBytes());
        codec.encode(dense, denseOut);
        denseOut.flip();
        assertThat(codec.decode(denseOut).sameAs(dense)).isTrue();
    }

    @Test
    void codecRefusesOtherShapesAndNonFiniteCellStates() {
        final EgruStateCodec codec = new EgruStateCodec(1, 1, 8);
        final ByteBuffer out = ByteBuffer.allocate(codec.maxEncodedBytes());
        final float[] c = new float[8];
        c[3] = Float.NaN;
        codec.encode(new EgruState(1, 1, 8, c, new int[][] {{1, 2}}), out);
        out.flip();
        assertThatThrownBy(() -> codec.decode(out)).hasMessageContaining("non-finite");
        out.rewind();
        assertThatThrownBy(() -> new EgruStateCodec(1, 2, 8).decode(out)).hasMessageContaining("record is for 1x1x8");
    }
}
