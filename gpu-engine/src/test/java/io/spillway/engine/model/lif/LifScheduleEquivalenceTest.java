package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;

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
 * The engine's LIF network under every schedule of the executor (docs/spec-double-checkpointing.md P1, P9, P12):
 * gradients, loss and predictions bitwise equal to full BPTT with two layers, batch 4 with ragged lengths, sparse
 * features, and intervals that do not divide T; spills through the lossless codec to host memory or a mapped file.
 */
class LifScheduleEquivalenceTest {
    private static final LifSettings SETTINGS = new LifSettings(6, 5, 40, 2, 0.9f, 10f, 1f, 10f,
            Float.NEGATIVE_INFINITY, 0.1f);

    @TempDir
    Path dir;

    private record Outcome(float[] grad, double loss, int correct, LifState end) {
    }

    private Outcome train(final Schedule schedule, final boolean mapped) {
        final WindowFixture fx = new WindowFixture(SETTINGS, new int[] {37, 30, 37, 12}, 17L, 1.5f);
        try (CpuBackend backend = new CpuBackend();
             CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(),
                     mapped ? OffChipStores.mappedFile(dir) : OffChipStores.hostMemory(), true, true)) {
            final float[] grad = new float[fx.params.size()];
            final LifWindow window = fx.window(backend, grad);
            final CheckpointExecutor.Result<LifState> r = executor.run(window, fx.initial, 37, schedule);
            return new Outcome(grad, window.lossSum(), window.correct(), r.finalState());
        }
    }

    @ParameterizedTest(name = "{0} {1} mapped={2}")
    @CsvSource({"uniform, 5, 0, false", "remote, 12, 0, false", "double, 12, 5, false", "double, 12, 5, true",
        "double, 10, 3, false", "double, 37, 6, false", "double, 20, 1, true", "double, 9, 9, false"})
    void everyScheduleMatchesBpttBitwise(final String kind, final int a, final int b, final boolean mapped) {
        final Outcome bptt = train(new Schedule.Bptt(), false);
        final Schedule schedule = switch (kind) {
            case "uniform" -> new Schedule.Uniform(a);
            case "remote" -> new Schedule.Remote(a);
            default -> new Schedule.DoubleCheckpoint(a, b);
        };
        final Outcome other = train(schedule, mapped);
        assertThat(other.grad()).containsExactly(bptt.grad());
        assertThat(other.loss()).isEqualTo(bptt.loss());
        assertThat(other.correct()).isEqualTo(bptt.correct());
        assertThat(other.end().sameAs(bptt.end())).isTrue();
    }

    /** P8: spilled bytes grow by 2 bytes per spike (uint16 ids) until the bitmap is smaller. */
    @Test
    void spilledBytesGrowWithSpikeDensityUntilTheBitmapCap() {
        final int n = 1024;
        final LifStateCodec codec = new LifStateCodec(1, 1, n, false);
        final long[] sizes = new long[n + 1];
        for (int k = 0; k <= n; k += 8) {
            final int[] ids = new int[k];
            for (int i = 0; i < k; i++) {
                ids[i] = i * (n / Math.max(k, 1));
            }
            final LifState s = new LifState(1, 1, n, new float[n], new int[][] {ids});
            final ByteBuffer out = ByteBuffer.allocate(codec.maxEncodedBytes());
            sizes[k] = codec.encode(s, out);
        }
        final long base = sizes[0];
        final int bitmapBytes = n / 8;
        for (int k = 8; k <= n; k += 8) {
            final long sparse = base + 2L * k;
            final long expected = Math.min(sparse, base + bitmapBytes);
            assertThat(sizes[k]).as("k=%d", k).isBetween(expected - 1, expected + 1);
        }
        assertThat(base).isGreaterThanOrEqualTo(4L * n);
    }

    /**
     * P13: with a spike capacity far below the activity the model grows its buffer (counted) and drops
     * nothing, so double checkpointing still equals BPTT and equals the run whose capacity is N.
     */
    @Test
    void spikeCapacityOverflowIsCountedAndChangesNothing() {
        final LifSettings tight = new LifSettings(6, 5, 40, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 0.025f);
        final LifSettings full = new LifSettings(6, 5, 40, 2, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 1f);
        final float[][] grads = new float[3][];
        final long[] overflows = new long[3];
        final Object[][] runs = {{tight, new Schedule.DoubleCheckpoint(12, 5)}, {tight, new Schedule.Bptt()},
            {full, new Schedule.DoubleCheckpoint(12, 5)}};
        for (int i = 0; i < runs.length; i++) {
            final WindowFixture fx = new WindowFixture((LifSettings) runs[i][0], new int[] {37, 30, 37, 12}, 17L, 1.5f);
            try (CpuBackend backend = new CpuBackend();
                 CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(),
                         OffChipStores.hostMemory(), true, true)) {
                grads[i] = new float[fx.params.size()];
                final LifWindow window = fx.window(backend, grads[i]);
                executor.run(window, fx.initial, 37, (Schedule) runs[i][1]);
                overflows[i] = window.spikeOverflows();
            }
        }
        assertThat(overflows[0]).isPositive();
        assertThat(overflows[2]).isZero();
        assertThat(grads[0]).containsExactly(grads[1]);
        assertThat(grads[0]).containsExactly(grads[2]);
    }

    /** Full reuse (the first pass builds the last remote segment's local checkpoints) on the LIF network. */
    @Test
    void fullReuseMatchesBpttBitwise() {
        final Outcome bptt = train(new Schedule.Bptt(), false);
        final WindowFixture fx = new WindowFixture(SETTINGS, new int[] {37, 30, 37, 12}, 17L, 1.5f);
        try (CpuBackend backend = new CpuBackend();
             CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(), OffChipStores.hostMemory(),
                     io.spillway.engine.checkpoint.Reuse.FULL, true)) {
            final float[] grad = new float[fx.params.size()];
            final LifWindow window = fx.window(backend, grad);
            final CheckpointExecutor.Result<LifState> r = executor.run(window, fx.initial, 37,
                    new Schedule.DoubleCheckpoint(12, 5));
            assertThat(grad).containsExactly(bptt.grad());
            assertThat(window.lossSum()).isEqualTo(bptt.loss());
            assertThat(window.correct()).isEqualTo(bptt.correct());
            assertThat(r.finalState().sameAs(bptt.end())).isTrue();
            assertThat(r.stats().remoteReads()).isEqualTo(3);
        }
    }
}
