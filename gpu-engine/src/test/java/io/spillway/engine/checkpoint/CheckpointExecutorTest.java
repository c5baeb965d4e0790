package io.spillway.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.checkpoint.store.OffChipStore;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryBudgetExceededException;
import io.spillway.engine.memory.MemoryTier;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The executor against the properties of docs/spec-double-checkpointing.md §6, on a small independent recurrent model.
 */
class CheckpointExecutorTest {
    private static final int N = 24;

    @TempDir
    Path dir;

    private record Run(ToyRnn model, CheckpointExecutor.Result<ToyRnn.State> result) {
    }

    private static Run run(final int steps, final Schedule schedule, final boolean tailReuse, final boolean prefetch,
                           final OffChipStores stores) {
        final ToyRnn model = new ToyRnn(N, steps, 7);
        try (CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(), stores, tailReuse, prefetch)) {
            return new Run(model, executor.run(model, model.initial(), steps, schedule));
        }
    }

    private static Run run(final int steps, final Schedule schedule, final boolean tailReuse) {
        return run(steps, schedule, tailReuse, true, OffChipStores.hostMemory());
    }

    @ParameterizedTest(name = "{0} tailReuse={1}")
    @CsvSource({"uniform 1, true", "uniform 5, false", "uniform 5, true", "uniform 10, true", "uniform 37, false",
        "uniform 40, true", "remote 5, false", "remote 12, true", "double 12 4, false", "double 12 4, true",
        "double 10 3, true", "double 37 6, false", "double 9 9, true", "double 20 1, false", "double 12 5, true",
        "double 40 7, true"})
    void everyScheduleGivesBpttsGradientsAndFinalStateBitwise(final String spec, final boolean tailReuse) {
        final int steps = 37;
        final Run bptt = run(steps, new Schedule.Bptt(), false);
        final Schedule schedule = parse(spec);
        final Run other = run(steps, schedule, tailReuse);
        assertThat(other.model().grad).containsExactly(bptt.model().grad);
        assertThat(other.result().finalState().h()).containsExactly(bptt.result().finalState().h());
        // P2: every recomputed state equals the first pass's bitwise.
        assertThat(other.model().recomputeMismatches).isZero();
        // P4: each step back-propagated exactly once, in decreasing order; forward count as the formula.
        assertThat(other.model().backwardOrder).containsExactlyElementsOf(
                IntStream.range(0, steps).map(t -> steps - 1 - t).boxed().toList());
        assertThat(other.result().stats().forwardEvaluations()).isEqualTo(schedule.forwardEvaluations(steps, tailReuse));
        assertThat(other.result().stats().backwardSteps()).isEqualTo(steps);
    }

    @Test
    void specsReferenceStepCountsForDoubleCheckpointing() {
        final Schedule d = new Schedule.DoubleCheckpoint(12, 4);
        assertThat(run(37, d, false).result().stats().forwardEvaluations()).isEqualTo(111);
        assertThat(run(37, d, true).result().stats().forwardEvaluations()).isEqualTo(98);
        assertThat(run(37, new Schedule.Uniform(10), true).result().stats().forwardEvaluations()).isEqualTo(74 - 7);
    }

    /**
     * The spec's P6 values ceil(Cr/Cl) + Cl are reached when Cl divides the segment; when the last
     * sub-segment is shorter, its checkpoint is dropped before the next sub-segment's tapes exist, one less.
     */
    @ParameterizedTest(name = "Cr={0} Cl={1}: spec bound {2}, exact {3}")
    @CsvSource({"12, 4, 7, 7", "10, 3, 7, 6", "37, 6, 13, 12", "20, 1, 21, 21"})
    void peakLocalSlotsMatchTheSpec(final int cr, final int cl, final int specBound, final int exact) {
        final Schedule d = new Schedule.DoubleCheckpoint(cr, cl);
        assertThat(Schedule.ceilDiv(cr, cl) + cl).isEqualTo(specBound);
        assertThat(d.peakLocalSlots(100)).isEqualTo(exact);
        assertThat(run(100, d, false).result().stats().peakLocalSlots()).isEqualTo(exact).isLessThanOrEqualTo(specBound);
        assertThat(run(100, d, true).result().stats().peakLocalSlots()).isLessThanOrEqualTo(exact);
        assertThat(run(120, new Schedule.Uniform(cl), false).result().stats().peakLocalSlots())
                .isEqualTo(new Schedule.Uniform(cl).peakLocalSlots(120));
    }

    @Test
    void remoteWritesReadsAndBytesFollowTheFormulas() {
        final int steps = 37;
        final Run d = run(steps, new Schedule.DoubleCheckpoint(12, 5), true);
        final CheckpointStats s = d.result().stats();
        assertThat(s.remoteWrites()).isEqualTo(4);
        assertThat(s.remoteReads()).isEqualTo(4);
        assertThat(s.bytesWritten()).isEqualTo(s.bytesRead()).isPositive();
        final Run r = run(steps, new Schedule.Remote(10), true);
        assertThat(r.result().stats().remoteWrites()).isEqualTo(4);
        assertThat(r.result().stats().remoteReads()).isEqualTo(3); // the tail segment's tapes were kept
        assertThat(run(steps, new Schedule.Uniform(10), true).result().stats().remoteWrites()).isZero();
    }

    @Test
    void localPeakIsIndependentOfTheWindowLengthUnlikeBptt() {
        final Schedule d = new Schedule.DoubleCheckpoint(50, 7);
        final long short1 = run(1_000, d, false).result().stats().peakDeviceBytes();
        final long long1 = run(5_000, d, false).result().stats().peakDeviceBytes();
        final int record = 4 * N + 4 * N;
        assertThat(Math.abs(long1 - short1)).isLessThanOrEqualTo(record);
        final long bptt1 = run(1_000, new Schedule.Bptt(), false).result().stats().peakDeviceBytes();
        final long bptt5 = run(5_000, new Schedule.Bptt(), false).result().stats().peakDeviceBytes();
        assertThat((double) bptt5 / bptt1).isBetween(4.5, 5.5);
        assertThat(bptt5).isGreaterThan(50 * long1);
    }

    @Test
    void prefetchOnOffAndSlowStoresDoNotChangeResults() {
        final Schedule d = new Schedule.DoubleCheckpoint(8, 3);
        final Run reference = run(60, d, true, false, OffChipStores.hostMemory());
        final SplittableRandom jitter = new SplittableRandom(3);
        final OffChipStores slow = (capacity, bytes) -> new DelayedStore(OffChipStores.hostMemory().create(capacity, bytes),
                jitter);
        final Run prefetched = run(60, d, true, true, slow);
        assertThat(prefetched.model().grad).containsExactly(reference.model().grad);
        final Run mapped = run(60, d, true, true, OffChipStores.mappedFile(dir));
        assertThat(mapped.model().grad).containsExactly(reference.model().grad);
    }

    @Test
    void degenerateIntervalsGiveTheSameGradients() {
        final Run uniform = run(37, new Schedule.Uniform(6), false);
        assertThat(run(37, new Schedule.DoubleCheckpoint(40, 6), false).model().grad)
                .containsExactly(uniform.model().grad);
        final Run remote = run(37, new Schedule.Remote(9), false);
        assertThat(run(37, new Schedule.DoubleCheckpoint(9, 9), false).model().grad)
                .containsExactly(remote.model().grad);
        assertThat(run(37, new Schedule.Remote(1), false).result().stats().remoteWrites()).isEqualTo(37);
    }

    @Test
    void aScheduleBeyondTheBudgetFailsClearly() {
        final ToyRnn model = new ToyRnn(N, 200, 1);
        final MemoryAccountant small = new MemoryAccountant(20_000, MemoryAccountant.UNLIMITED);
        try (CheckpointExecutor executor = new CheckpointExecutor(small, OffChipStores.hostMemory(), true, false)) {
            assertThatThrownBy(() -> executor.run(model, model.initial(), 200, new Schedule.Bptt()))
                    .isInstanceOf(MemoryBudgetExceededException.class);
            assertThat(small.liveBytes(MemoryTier.DEVICE)).isZero();
            final ToyRnn again = new ToyRnn(N, 200, 1);
            final CheckpointExecutor.Result<ToyRnn.State> ok = executor.run(again, again.initial(), 200,
                    new Schedule.DoubleCheckpoint(50, 7));
            assertThat(ok.stats().peakDeviceBytes()).isLessThan(20_000);
        }
    }

    /** A failing asynchronous write fails the window with the cause, and frees every device booking. */
    @Test
    void aFailedOffChipWriteFailsTheWindowClearly() {
        final MemoryAccountant accountant = new MemoryAccountant();
        final OffChipStores throwing = (capacity, bytes) -> new FailingStore(OffChipStores.hostMemory()
                .create(capacity, bytes));
        try (CheckpointExecutor executor = new CheckpointExecutor(accountant, throwing, true, true)) {
            final ToyRnn model = new ToyRnn(N, 40, 1);
            assertThatThrownBy(() -> executor.run(model, model.initial(), 40, new Schedule.DoubleCheckpoint(8, 3)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("off-chip checkpoint I/O failed")
                    .hasMessageContaining("disk full");
            assertThat(accountant.liveBytes(MemoryTier.DEVICE)).isZero();
        }
    }

    /** A store whose writes fail, as a full disk would. */
    private static final class FailingStore extends ForwardingStore {
        FailingStore(final OffChipStore inner) {
            super(inner);
        }

        @Override
        public void write(final int slot, final ByteBuffer record) {
            throw new java.io.UncheckedIOException(new java.io.IOException("disk full"));
        }
    }

    private static Schedule parse(final String spec) {
        final String[] p = spec.trim().split(" ");
        return switch (p[0]) {
            case "uniform" -> new Schedule.Uniform(Integer.parseInt(p[1]));
            case "remote" -> new Schedule.Remote(Integer.parseInt(p[1]));
            case "double" -> new Schedule.DoubleCheckpoint(Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            default -> new Schedule.Bptt();
        };
    }

    /** A store that sleeps a random moment on each write and read: prefetch must not change any result. */
    private static final class DelayedStore extends ForwardingStore {
        private final SplittableRandom jitter;

        DelayedStore(final OffChipStore inner, final SplittableRandom jitter) {
            super(inner);
            this.jitter = jitter;
        }

        @Override
        public void write(final int slot, final ByteBuffer record) {
            pause();
            super.write(slot, record);
        }

        @Override
        public ByteBuffer read(final int slot) {
            pause();
            return super.read(slot);
        }

        private void pause() {
            final int ms;
            synchronized (jitter) {
                ms = jitter.nextInt(3);
            }
            try {
                Thread.sleep(ms);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
