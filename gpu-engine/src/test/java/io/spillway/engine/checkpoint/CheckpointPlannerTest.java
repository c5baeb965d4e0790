package io.spillway.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The decision rule of docs/spec-double-checkpointing.md §2.7 on its reference sizes (|s| = |tape| = 4,202 B). */
class CheckpointPlannerTest {
    private static final long S = 4_202;

    @Test
    void bpttWhenAllTapesFit() {
        final CheckpointPlanner.Plan p = CheckpointPlanner.plan("auto", 1_000, S, S, 8L << 20);
        assertThat(p.schedule()).isEqualTo(new Schedule.Bptt());
        assertThat(p.predictedDeviceBytes()).isEqualTo(1_000 * S + S);
    }

    @Test
    void standardCheckpointingAtTheSquareRootIntervalWhenThatFits() {
        // T = 10,000: BPTT needs 42 MB; 2 sqrt(T) slots = 200 slots = 0.84 MB.
        final CheckpointPlanner.Plan p = CheckpointPlanner.plan("auto", 10_000, S, S, 1L << 20);
        assertThat(p.schedule()).isEqualTo(new Schedule.Uniform(100));
        assertThat(p.predictedDeviceBytes()).isLessThanOrEqualTo(1L << 20);
        assertThat(p.explanation()).contains("bptt needs");
    }

    @Test
    void doubleCheckpointingWithTheLargestRemoteIntervalTheBudgetAdmits() {
        final long budget = 200_000;
        final CheckpointPlanner.Plan p = CheckpointPlanner.plan("auto", 1_000_000, S, S, budget);
        assertThat(p.schedule()).isInstanceOf(Schedule.DoubleCheckpoint.class);
        final Schedule.DoubleCheckpoint d = (Schedule.DoubleCheckpoint) p.schedule();
        assertThat(p.predictedDeviceBytes()).isLessThanOrEqualTo(budget);
        // C_r,max = (M - staging)^2 / (4 |s| |tape|); C_l near sqrt(C_r).
        final double crMax = Math.pow(budget - 2.0 * S, 2) / (4.0 * S * S);
        assertThat((double) d.remoteInterval()).isBetween(crMax * 0.8, crMax);
        assertThat((double) d.localInterval()).isBetween(Math.sqrt(d.remoteInterval()) - 1, Math.sqrt(d.remoteInterval()) + 1);
        // Device bytes do not depend on T.
        assertThat(CheckpointPlanner.plan("auto", 10_000_000, S, S, budget).predictedDeviceBytes())
                .isEqualTo(p.predictedDeviceBytes());
    }

    @Test
    void requestedSchedulesAreSizedAndCheckedBeforeTraining() {
        assertThat(CheckpointPlanner.plan("remote", 10_000, S, S, 1L << 20).schedule())
                .isEqualTo(new Schedule.Remote((int) (((1L << 20) - 3 * S) / S)));
        assertThatThrownBy(() -> CheckpointPlanner.plan("bptt", 10_000, S, S, 1L << 20))
                .isInstanceOf(ScheduleDoesNotFitException.class)
                .hasMessageContaining("bptt needs 40.08 MiB").hasMessageContaining("budget is 1.00 MiB");
        assertThatThrownBy(() -> CheckpointPlanner.plan("auto", 10_000, S, S, 3 * S))
                .isInstanceOf(ScheduleDoesNotFitException.class).hasMessageContaining("--device-memory");
        assertThatThrownBy(() -> CheckpointPlanner.plan("sometimes", 10, S, S, 1L << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected auto, bptt");
    }

    @Test
    void planExplainsItselfWithStructuredFigures() {
        final CheckpointPlanner.Plan p = CheckpointPlanner.plan("auto", 1_000_000, S, S, 200_000);
        assertThat(p.kind()).isEqualTo("double");
        final Schedule.DoubleCheckpoint d = (Schedule.DoubleCheckpoint) p.schedule();
        assertThat(p.metrics()).containsEntry("remote_interval", d.remoteInterval())
                .containsEntry("local_interval", d.localInterval())
                .containsEntry("predicted_device_bytes", p.predictedDeviceBytes())
                .containsEntry("forward_evaluations", 3_000_000L)
                .containsEntry("remote_transfers", 2L * Schedule.ceilDiv(1_000_000, d.remoteInterval()))
                .containsEntry("bptt_device_bytes", 1_000_000 * S + S);
        assertThat(p.predictedOffChipBytes()).isEqualTo(Schedule.ceilDiv(1_000_000, d.remoteInterval()) * S);
        assertThat(p.explanation()).startsWith(d.describe()).contains("bptt needs").contains("transfers");
        assertThat(CheckpointPlanner.plan("auto", 100, S, S, 8L << 20).metrics())
                .containsEntry("remote_interval", 0).containsEntry("remote_transfers", 0L);
    }

    /** §2.7 step 3: remote checkpointing only when its round trips cost less than an extra forward pass. */
    @Test
    void remoteWinsOnlyWhenRoundTripsAreCheaperThanAnExtraPass() {
        final long budget = 200_000;
        // Fast link, slow steps: 2 (T/C) (lambda + |s|/BW) << T t_f.
        final CheckpointPlanner.Plan cheap = CheckpointPlanner.plan("auto", 100_000, S, S, budget,
                new CheckpointPlanner.TransferCost(1e-6, 25e9, 1e-3));
        assertThat(cheap.kind()).isEqualTo("remote");
        assertThat(cheap.explanation()).contains("< one extra forward pass");
        assertThat(cheap.predictedDeviceBytes()).isLessThanOrEqualTo(budget);
        // Slow disk, fast sparse steps: double checkpointing.
        final CheckpointPlanner.Plan slow = CheckpointPlanner.plan("auto", 100_000, S, S, budget,
                new CheckpointPlanner.TransferCost(1e-3, 1e8, 1e-6));
        assertThat(slow.kind()).isEqualTo("double");
        assertThat(slow.explanation()).contains(">= one extra forward pass");
        assertThatThrownBy(() -> new CheckpointPlanner.TransferCost(0, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The prediction is what the executor books: plan, run on a model of those sizes, compare. */
    @Test
    void predictedBytesAreWhatTheExecutorBooks() {
        for (final String kind : new String[] {"bptt", "uniform", "remote", "double"}) {
            final int steps = 400;
            final ToyRnn model = new ToyRnn(4, steps, 1);
            model.declaredStateBytes = S;
            model.declaredTapeBytes = S;
            final CheckpointPlanner.Plan p = CheckpointPlanner.plan(kind, steps, S, S, 2_000_000);
            final io.spillway.engine.memory.MemoryAccountant budgeted =
                    new io.spillway.engine.memory.MemoryAccountant(p.predictedDeviceBytes(), Long.MAX_VALUE);
            try (CheckpointExecutor executor = new CheckpointExecutor(budgeted,
                    io.spillway.engine.checkpoint.store.OffChipStores.hostMemory(), false, true)) {
                final CheckpointStats stats = executor.run(model, model.initial(), steps, p.schedule()).stats();
                assertThat(stats.peakDeviceBytes()).as(kind).isLessThanOrEqualTo(p.predictedDeviceBytes());
                assertThat(stats.forwardEvaluations()).as(kind).isEqualTo(p.forwardEvaluations());
                assertThat(stats.remoteWrites() + stats.remoteReads()).as(kind).isEqualTo(p.remoteTransfers());
            }
        }
    }

    /** Windows near Integer.MAX_VALUE steps: no int overflow; uniform no longer fits, double does. */
    @Test
    void longestWindowsDoNotOverflow() {
        final long budget = 256L << 20;
        final long s = 68_756;
        final long tape = 71_953;
        assertThatThrownBy(() -> CheckpointPlanner.plan("uniform", Integer.MAX_VALUE, s, tape, budget))
                .isInstanceOf(ScheduleDoesNotFitException.class);
        final CheckpointPlanner.Plan p = CheckpointPlanner.plan("auto", Integer.MAX_VALUE, s, tape, budget);
        assertThat(p.kind()).isEqualTo("double");
        assertThat(p.predictedDeviceBytes()).isPositive().isLessThanOrEqualTo(budget);
        assertThat(p.remoteTransfers()).isPositive();
        assertThat(Schedule.ceilDiv(Integer.MAX_VALUE, 7)).isEqualTo(306_783_379);
        // Standard checkpointing's reach is M^2 / (4 |s| |tape|) steps (§2.2 optimum).
        final long reach = (long) ((double) budget * budget / (4.0 * s * tape));
        assertThat(CheckpointPlanner.plan("auto", (int) (reach * 0.9), s, tape, budget).kind()).isEqualTo("uniform");
        assertThat(CheckpointPlanner.plan("auto", (int) (reach * 1.1), s, tape, budget).kind()).isEqualTo("double");
    }
}
