package io.spillway.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.checkpoint.store.OffChipStore;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import io.spillway.engine.model.SpikeBlockCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference experiments E1 and E2 of docs/spec-double-checkpointing.md §7 (device peaks, forward evaluations,
 * remote transfers, with |s| = |tape| = 4,202 B declared by the model), and properties P2/P3 (lossy storage is caught),
 * P5, P7, P8 (spilled bytes versus density), P10 and P12 (window carry).
 */
class CheckpointSpecPropertiesTest {
    private static final long B = 4_202;

    private record Run(ToyRnn model, CheckpointExecutor.Result<ToyRnn.State> result, MemoryAccountant accountant) {
        CheckpointStats stats() {
            return result.stats();
        }
    }

    private static ToyRnn sized(final int n, final int steps) {
        final ToyRnn m = new ToyRnn(n, steps, 11);
        m.declaredStateBytes = B;
        m.declaredTapeBytes = B;
        return m;
    }

    private static Run run(final ToyRnn model, final int steps, final Schedule schedule, final boolean tailReuse,
                           final OffChipStores stores) {
        final MemoryAccountant accountant = new MemoryAccountant();
        try (CheckpointExecutor executor = new CheckpointExecutor(accountant, stores, tailReuse, true)) {
            return new Run(model, executor.run(model, model.initial(), steps, schedule), accountant);
        }
    }

    private static Run run(final ToyRnn model, final int steps, final Schedule schedule, final boolean tailReuse) {
        return run(model, steps, schedule, tailReuse, OffChipStores.hostMemory());
    }

    private static Schedule parse(final String kind, final int a, final int b) {
        return switch (kind) {
            case "uniform" -> new Schedule.Uniform(a);
            case "remote" -> new Schedule.Remote(a);
            case "double" -> new Schedule.DoubleCheckpoint(a, b);
            default -> new Schedule.Bptt();
        };
    }

    /**
     * E1 (T = 10,000): the spec's local peak (its table, in bytes) plus the working state the executor also
     * books; forward evaluations naive and with tail reuse; remote writes plus reads.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "bptt, 0, 0, 42020000, 10000, 10000, 0",
        "uniform, 100, 0, 840400, 20000, 19900, 0",
        "remote, 100, 0, 428604, 20000, 19900, 200",
        "double, 100, 10, 88242, 30000, 29000, 200",
        // the spec's 0.273 MB counts K_l + C_l = 64 slots; with a last sub-segment of 8 steps the exact peak is 63
        "double, 1000, 32, 268928, 30000, 29920, 20"})
    void experimentE1(final String kind, final int a, final int b, final long specLocal, final long fNaive,
                      final long fTail, final long transfers) {
        final int steps = 10_000;
        final Schedule schedule = parse(kind, a, b);
        final Run naive = run(sized(4, steps), steps, schedule, false);
        final long working = kind.equals("bptt") ? 0 : B; // the spec's BPTT formula already counts |s|
        assertThat(naive.stats().peakDeviceBytes() - working).isEqualTo(specLocal + (kind.equals("bptt") ? B : 0));
        assertThat(naive.stats().forwardEvaluations()).isEqualTo(fNaive);
        assertThat(naive.stats().remoteWrites() + naive.stats().remoteReads()).isEqualTo(transfers);
        assertThat(naive.stats().backwardSteps()).isEqualTo(steps);
        final Run tail = run(sized(4, steps), steps, schedule, true);
        assertThat(tail.stats().forwardEvaluations()).isEqualTo(fTail);
        assertThat(tail.stats().peakDeviceBytes()).isLessThanOrEqualTo(naive.stats().peakDeviceBytes());
        assertThat(tail.model().grad).containsExactly(naive.model().grad);
        // The planner predicts the same peak (exact where the intervals divide, an upper bound otherwise).
        final long predicted = CheckpointPlanner.deviceBytes(steps, B, B, schedule);
        if (kind.equals("double") && a == 1000) {
            assertThat(naive.stats().peakDeviceBytes()).isEqualTo(predicted - B);
        } else {
            assertThat(naive.stats().peakDeviceBytes()).isEqualTo(predicted);
        }
    }

    private static Run run(final ToyRnn model, final int steps, final Schedule schedule, final Reuse reuse) {
        final MemoryAccountant accountant = new MemoryAccountant();
        try (CheckpointExecutor executor = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), reuse,
                true)) {
            return new Run(model, executor.run(model, model.initial(), steps, schedule), accountant);
        }
    }

    /**
     * Full reuse (§2.5, third F row): the first pass builds the last remote segment's local checkpoints,
     * so F = 3T - T C_l/C_r - C_r when divisible (E1: 28,900) and one remote read fewer (P7); gradients stay
     * bitwise BPTT's, also for intervals that do not divide T.
     */
    @ParameterizedTest(name = "T={0} Cr={1} Cl={2}")
    // 3T - sum of last sub-segments - last remote segment: 111 - 13 - 1; 111 - 7 - 1; 111 - 1 - 37 (= uniform(6)
    // with tail reuse); 111 - 37 - 1; 300 - 5 - 20
    @CsvSource({"10000, 100, 10, 28900", "37, 12, 4, 97", "37, 12, 5, 103", "37, 40, 6, 73", "37, 9, 9, 73",
        "100, 20, 1, 275"})
    void fullReuseSavesThePass2OfTheLastRemoteSegment(final int steps, final int cr, final int cl, final long f) {
        final Schedule d = new Schedule.DoubleCheckpoint(cr, cl);
        final Run bptt = run(new ToyRnn(8, steps, 4), steps, new Schedule.Bptt(), Reuse.NONE);
        final Run full = run(new ToyRnn(8, steps, 4), steps, d, Reuse.FULL);
        assertThat(full.model().grad).containsExactly(bptt.model().grad);
        assertThat(full.result().finalState().h()).containsExactly(bptt.result().finalState().h());
        assertThat(full.model().recomputeMismatches).isZero();
        assertThat(full.stats().forwardEvaluations()).isEqualTo(f).isEqualTo(d.forwardEvaluations(steps, Reuse.FULL));
        assertThat(full.stats().remoteWrites()).isEqualTo(Math.ceilDiv(steps, cr));
        assertThat(full.stats().remoteReads()).isEqualTo(Math.ceilDiv(steps, cr) - 1)
                .isEqualTo(d.remoteReads(steps, Reuse.FULL));
        assertThat(full.stats().backwardSteps()).isEqualTo(steps);
    }

    /** P10 with full reuse: C_r >= T gives standard checkpointing's counters exactly (plus one remote write). */
    @Test
    void fullReuseWithOneRemoteSegmentIsStandardCheckpointing() {
        final int steps = 37;
        final Run uniform = run(new ToyRnn(24, steps, 3), steps, new Schedule.Uniform(6), Reuse.TAIL);
        final Run wide = run(new ToyRnn(24, steps, 3), steps, new Schedule.DoubleCheckpoint(40, 6), Reuse.FULL);
        assertThat(wide.model().grad).containsExactly(uniform.model().grad);
        assertThat(wide.stats().forwardEvaluations()).isEqualTo(uniform.stats().forwardEvaluations());
        assertThat(wide.stats().peakLocalSlots()).isEqualTo(uniform.stats().peakLocalSlots());
        assertThat(wide.stats().remoteReads()).isZero();
        assertThat(wide.stats().remoteWrites()).isEqualTo(1);
        assertThat(wide.model().backwardOrder).isEqualTo(uniform.model().backwardOrder);
    }

    /** E1's headline: BPTT needs about 476x the local memory of double(100, 10). */
    @Test
    void bpttToDoubleLocalRatioOfE1() {
        final double ratio = (double) CheckpointPlanner.deviceBytes(10_000, B, B, new Schedule.Bptt())
                / (CheckpointPlanner.deviceBytes(10_000, B, B, new Schedule.DoubleCheckpoint(100, 10)) - B);
        assertThat(ratio).isBetween(470.0, 480.0);
    }

    /** E2 and P5: with C_r = 256, C_l = 16 the device peak is the same for T = 10^3, 10^4 and 10^5. */
    @ParameterizedTest(name = "T={0}")
    @CsvSource({"1000, 4, 2944", "10000, 40, 29360", "100000, 391, 293744"})
    void experimentE2LocalPeakIndependentOfT(final int steps, final int writes, final long fTail) {
        final Schedule d = new Schedule.DoubleCheckpoint(256, 16);
        final Run naive = run(sized(2, steps), steps, d, false);
        assertThat(naive.stats().peakDeviceBytes()).isEqualTo(138_666 + B);
        assertThat(naive.stats().forwardEvaluations()).isEqualTo(3L * steps);
        assertThat(naive.stats().remoteWrites()).isEqualTo(writes);
        assertThat(naive.stats().remoteReads()).isEqualTo(writes);
        // Off-chip: one fixed-size slot per remote checkpoint.
        assertThat(naive.accountant().peakBytes(MemoryTier.OFF_CHIP)).isEqualTo(writes
                * (long) Math.ceilDiv(Integer.BYTES + naive.model().codec().maxEncodedBytes(), 64) * 64);
        final Run tail = run(sized(2, steps), steps, d, true);
        assertThat(tail.stats().forwardEvaluations()).isEqualTo(fTail);
        assertThat(tail.stats().peakDeviceBytes()).isLessThanOrEqualTo(138_666 + B);
        // BPTT's peak grows linearly: T tapes plus the state.
        assertThat(CheckpointPlanner.deviceBytes(steps, B, B, new Schedule.Bptt())).isEqualTo(steps * B + B);
    }

    @Test
    void bpttPeakGrowsLinearlyWhenMeasured() {
        final long p1 = run(sized(2, 1_000), 1_000, new Schedule.Bptt(), false).stats().peakDeviceBytes();
        final long p10 = run(sized(2, 10_000), 10_000, new Schedule.Bptt(), false).stats().peakDeviceBytes();
        assertThat(p1).isEqualTo(1_000 * B + B);
        assertThat(p10).isEqualTo(10_000 * B + B);
    }

    /** P7: bytes moved are the sum of the record sizes, reads never precede their write, writes = ceil(T/C_r). */
    @ParameterizedTest(name = "Cr={0}")
    @ValueSource(ints = {5, 12, 37, 50})
    void remoteBytesAreTheSumOfRecordSizes(final int cr) {
        final int steps = 37;
        final List<int[]> log = new ArrayList<>();
        final ToyRnn model = new ToyRnn(40, steps, 5);
        final OffChipStores recording = (capacity, bytes) -> new RecordingStore(
                OffChipStores.hostMemory().create(capacity, bytes), log);
        final Run r = run(model, steps, new Schedule.DoubleCheckpoint(cr, Math.max(1, cr / 3)), false, recording);
        final int k = Math.ceilDiv(steps, cr);
        assertThat(r.stats().remoteWrites()).isEqualTo(k);
        assertThat(r.stats().remoteReads()).isEqualTo(k);
        // Expected record sizes from the first pass's states, encoded independently of the executor.
        long expected = 0;
        for (int j = 0; j < k; j++) {
            final int t = j * cr;
            final float[] h = t == 0 ? new float[40] : model.firstPass.get(t - 1);
            int active = 0;
            for (final float v : h) {
                active += v > model.threshold ? 1 : 0;
            }
            expected += 4 + 4L * 40 + new SpikeBlockCodec(40).blockBytes(active);
        }
        assertThat(r.stats().bytesWritten()).isEqualTo(expected);
        assertThat(r.stats().bytesRead()).isEqualTo(expected);
        // Every slot is written before it is read; reads come in decreasing slot order.
        final List<Integer> reads = new ArrayList<>();
        final java.util.Set<Integer> written = new java.util.HashSet<>();
        for (final int[] e : log) {
            if (e[0] == 0) {
                written.add(e[1]);
            } else {
                assertThat(written).contains(e[1]);
                reads.add(e[1]);
            }
        }
        assertThat(reads).isSortedAccordingTo((x, y) -> Integer.compare(y, x));
    }

    /**
     * P8: spilled bytes per checkpoint are {@code a + 2k} (uint16 ids) with a = 4N + header, fitted with
     * R^2 > 0.999 over a sweep of densities, and exactly {@code a + N/8} once the bitmap is smaller.
     */
    @Test
    void spilledBytesGrowTwoBytesPerSpikeUntilTheBitmapCap() {
        final int n = 256;
        final int steps = 400;
        final int cr = 4;
        final List<double[]> sparse = new ArrayList<>();
        int bitmapRecords = 0;
        for (final float threshold : new float[] {0.99f, 0.97f, 0.95f, 0.9f, 0.8f, 0.6f, 0.3f, 0f}) {
            final List<int[]> log = new ArrayList<>();
            final ToyRnn model = new ToyRnn(n, steps, 23);
            model.threshold = threshold;
            final OffChipStores recording = (capacity, bytes) -> new RecordingStore(
                    OffChipStores.hostMemory().create(capacity, bytes), log);
            run(model, steps, new Schedule.Remote(cr), false, recording);
            for (final int[] e : log) {
                if (e[0] != 0) {
                    continue;
                }
                final int t = e[1] * cr;
                final float[] h = t == 0 ? new float[n] : model.firstPass.get(t - 1);
                int k = 0;
                for (final float v : h) {
                    k += v > threshold ? 1 : 0;
                }
                if (2 * k <= n / 8) {
                    sparse.add(new double[] {k, e[2]});
                } else {
                    assertThat(e[2]).isEqualTo(4 + 4 * n + 4 + n / 8);
                    bitmapRecords++;
                }
            }
        }
        assertThat(bitmapRecords).isPositive();
        final double[] fit = linearFit(sparse);
        assertThat(sparse.stream().mapToDouble(p -> p[0]).distinct().count()).isGreaterThan(5);
        assertThat(fit[2]).isGreaterThan(0.999);
        assertThat(fit[1]).isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(fit[0]).isCloseTo(4 + 4 * n + 4, org.assertj.core.data.Offset.offset(1e-6));
    }

    /** Least squares y = a + b x: {a, b, R^2}. */
    private static double[] linearFit(final List<double[]> points) {
        double sx = 0;
        double sy = 0;
        for (final double[] p : points) {
            sx += p[0];
            sy += p[1];
        }
        final double mx = sx / points.size();
        final double my = sy / points.size();
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (final double[] p : points) {
            sxx += (p[0] - mx) * (p[0] - mx);
            sxy += (p[0] - mx) * (p[1] - my);
            syy += (p[1] - my) * (p[1] - my);
        }
        final double slope = sxy / sxx;
        final double intercept = my - slope * mx;
        double sse = 0;
        for (final double[] p : points) {
            final double e = p[1] - intercept - slope * p[0];
            sse += e * e;
        }
        return new double[] {intercept, slope, 1 - sse / syy};
    }

    /** P2/P3: a codec storing h in fp16 derails recomputation, and the checks see it. */
    @Test
    void lossyCheckpointStorageIsDetected() {
        final int steps = 37;
        final ToyRnn exact = new ToyRnn(24, steps, 7);
        final Run reference = run(exact, steps, new Schedule.Bptt(), false);
        final ToyRnn lossy = new ToyRnn(24, steps, 7);
        lossy.lossyHalfPrecision = true;
        final Run spilled = run(lossy, steps, new Schedule.DoubleCheckpoint(12, 4), false);
        assertThat(lossy.recomputeMismatches).isPositive();
        assertThat(spilled.model().grad).isNotEqualTo(reference.model().grad);
        // The same schedule with the lossless codec is exact.
        final ToyRnn lossless = new ToyRnn(24, steps, 7);
        assertThat(run(lossless, steps, new Schedule.DoubleCheckpoint(12, 4), false).model().grad)
                .containsExactly(reference.model().grad);
        assertThat(lossless.recomputeMismatches).isZero();
    }

    /**
     * P10: C_l = C_r is remote checkpointing (with tail reuse the empty pass 2 vanishes: same forward count,
     * transfers and gradients); C_r >= T is standard checkpointing with C = C_l (same gradients, same local
     * checkpoints and tapes; one extra first pass); C = 1 spills every state.
     */
    @Test
    void degenerateIntervalsReproduceTheSimplerSchemes() {
        final int steps = 37;
        final Run remote = run(new ToyRnn(24, steps, 3), steps, new Schedule.Remote(9), false);
        final Run dbl = run(new ToyRnn(24, steps, 3), steps, new Schedule.DoubleCheckpoint(9, 9), true);
        assertThat(dbl.model().grad).containsExactly(remote.model().grad);
        assertThat(dbl.stats().forwardEvaluations()).isEqualTo(remote.stats().forwardEvaluations());
        assertThat(dbl.stats().remoteWrites()).isEqualTo(remote.stats().remoteWrites());
        assertThat(dbl.stats().remoteReads()).isEqualTo(remote.stats().remoteReads());
        final Run uniform = run(new ToyRnn(24, steps, 3), steps, new Schedule.Uniform(6), false);
        final Run wide = run(new ToyRnn(24, steps, 3), steps, new Schedule.DoubleCheckpoint(40, 6), false);
        assertThat(wide.model().grad).containsExactly(uniform.model().grad);
        assertThat(wide.stats().peakLocalSlots()).isEqualTo(uniform.stats().peakLocalSlots());
        assertThat(wide.stats().forwardEvaluations()).isEqualTo(uniform.stats().forwardEvaluations() + steps);
        final Run every = run(new ToyRnn(24, steps, 3), steps, new Schedule.Remote(1), false);
        assertThat(every.stats().remoteWrites()).isEqualTo(steps);
        assertThat(every.stats().peakLocalSlots()).isEqualTo(1);
        assertThat(every.model().grad).containsExactly(uniform.model().grad);
    }

    /**
     * P12: two windows with the carried state give the forward states of one run over 2T; each window's
     * gradient under double checkpointing equals truncated BPTT cut at the window edge.
     */
    @Test
    void windowsCarryTheFinalState() {
        final int steps = 30;
        final ToyRnn whole = new ToyRnn(24, 2 * steps, 9);
        final Run once = run(whole, 2 * steps, new Schedule.Bptt(), false);
        final ToyRnn split = new ToyRnn(24, 2 * steps, 9);
        final ToyRnn reference = new ToyRnn(24, 2 * steps, 9);
        try (CheckpointExecutor executor = new CheckpointExecutor(new MemoryAccountant(), OffChipStores.hostMemory(),
                true, true)) {
            final Schedule d = new Schedule.DoubleCheckpoint(7, 3);
            final var first = executor.run(new Shifted(split, 0), split.initial(), steps, d);
            executor.run(new Shifted(reference, 0), reference.initial(), steps, new Schedule.Bptt());
            final var second = executor.run(new Shifted(split, steps), first.finalState(), steps, d);
            final double[] windowGrad = split.grad.clone();
            final var second2 = executor.run(new Shifted(reference, steps), first.finalState(), steps,
                    new Schedule.Bptt());
            assertThat(second.finalState().h()).containsExactly(once.result().finalState().h());
            for (int t = 0; t < 2 * steps; t++) {
                assertThat(split.firstPass.get(t)).as("t=%d", t).containsExactly(whole.firstPass.get(t));
            }
            assertThat(windowGrad).containsExactly(reference.grad);
            assertThat(second2.finalState().h()).containsExactly(second.finalState().h());
            assertThat(windowGrad).isNotEqualTo(whole.grad); // the adjoint does not cross the window edge
        }
    }

    @TempDir
    java.nio.file.Path dir;

    /** §2.9: consecutive windows reuse one memory-mapped file; a longer window grows it; close deletes it. */
    @Test
    void windowsReuseOneOffChipFileAsARing() throws Exception {
        final MemoryAccountant accountant = new MemoryAccountant();
        try (CheckpointExecutor executor = new CheckpointExecutor(accountant, OffChipStores.mappedFile(dir), true,
                true)) {
            final Schedule d = new Schedule.DoubleCheckpoint(10, 3);
            final ToyRnn first = new ToyRnn(24, 60, 1);
            final ToyRnn reference = new ToyRnn(24, 60, 1);
            executor.run(first, first.initial(), 60, d);
            final List<java.nio.file.Path> files = files();
            assertThat(files).hasSize(1);
            final long booked = accountant.liveBytes(MemoryTier.OFF_CHIP);
            assertThat(booked).isPositive();
            final ToyRnn second = new ToyRnn(24, 40, 2);
            executor.run(second, second.initial(), 40, d);
            assertThat(files()).isEqualTo(files);
            assertThat(accountant.liveBytes(MemoryTier.OFF_CHIP)).isEqualTo(booked);
            // Reused slots hold the new window's records: gradients still equal BPTT's.
            final ToyRnn bptt = new ToyRnn(24, 40, 2);
            executor.run(bptt, bptt.initial(), 40, new Schedule.Bptt());
            assertThat(second.grad).containsExactly(bptt.grad);
            final ToyRnn longer = new ToyRnn(24, 200, 3);
            executor.run(longer, longer.initial(), 200, d);
            assertThat(files()).hasSize(1).isNotEqualTo(files);
            assertThat(accountant.liveBytes(MemoryTier.OFF_CHIP)).isGreaterThan(booked);
            executor.run(reference, reference.initial(), 60, new Schedule.Bptt());
            assertThat(first.grad).containsExactly(reference.grad);
        }
        assertThat(files()).isEmpty();
        assertThat(accountant.liveBytes(MemoryTier.OFF_CHIP)).isZero();
    }

    private List<java.nio.file.Path> files() throws java.io.IOException {
        try (var s = java.nio.file.Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** The model seen from a later window: step indices shifted by {@code offset}. */
    private record Shifted(ToyRnn inner, int offset) implements RecurrentModel<ToyRnn.State, ToyRnn.Tape> {
        @Override
        public ToyRnn.State step(final ToyRnn.State state, final int t, final boolean record) {
            return inner.step(state, t + offset, record);
        }

        @Override
        public Taped<ToyRnn.State, ToyRnn.Tape> stepWithTape(final ToyRnn.State state, final int t) {
            return inner.stepWithTape(state, t + offset);
        }

        @Override
        public Backward<ToyRnn.Tape> beginBackward() {
            return inner.beginBackward();
        }

        @Override
        public StateCodec<ToyRnn.State> codec() {
            return inner.codec();
        }

        @Override
        public long stateBytes(final ToyRnn.State state) {
            return inner.stateBytes(state);
        }

        @Override
        public long tapeBytes(final ToyRnn.Tape tape) {
            return inner.tapeBytes(tape);
        }
    }

    /** Logs {kind (0 write, 1 read), slot, bytes} of every store operation, in order. */
    private static final class RecordingStore extends ForwardingStore {
        private final List<int[]> log;

        RecordingStore(final OffChipStore inner, final List<int[]> log) {
            super(inner);
            this.log = log;
        }

        @Override
        public void write(final int slot, final ByteBuffer record) {
            final int n = record.remaining();
            super.write(slot, record);
            synchronized (log) {
                log.add(new int[] {0, slot, n});
            }
        }

        @Override
        public ByteBuffer read(final int slot) {
            final ByteBuffer b = super.read(slot);
            synchronized (log) {
                log.add(new int[] {1, slot, b.remaining()});
            }
            return b;
        }
    }
}
