package io.spillway.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The decision rule of spec §2.7 on the spec's reference sizes (|s| = |tape| = 4,202 B). */
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
}
