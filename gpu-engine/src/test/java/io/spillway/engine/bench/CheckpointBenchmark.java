package io.spillway.engine.bench;

import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.bench.jmh.SparseStepJmh;
import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.CheckpointExecutor;
import io.spillway.engine.checkpoint.CheckpointPlanner;
import io.spillway.engine.checkpoint.CheckpointStats;
import io.spillway.engine.checkpoint.RecurrentModel;
import io.spillway.engine.checkpoint.Reuse;
import io.spillway.engine.checkpoint.Schedule;
import io.spillway.engine.checkpoint.ScheduleDoesNotFitException;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.model.lif.LifParameters;
import io.spillway.engine.model.lif.LifSettings;
import io.spillway.engine.model.lif.LifState;
import io.spillway.engine.model.lif.LifTape;
import io.spillway.engine.model.lif.LifWindow;
import io.spillway.engine.model.WindowInputs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Double-checkpointing benchmarks (issue 3), on the engine's LIF network on the CPU backend:
 * <ol>
 *   <li>longest window in a 256 MiB device budget at hidden 1024, batch 16, ~5% activity, per schedule,
 *       from the measured state, tape and record sizes and the formulas of
 *       docs/spec-double-checkpointing.md; and one verified long run of double checkpointing at a million steps
 *       (smaller model, so it finishes in minutes here);
 *   <li>time per trained step of uniform and double checkpointing relative to BPTT where BPTT fits,
 *       interleaved repeats, medians, on one thread and with the recomputation ahead on a second thread;
 *   <li>the sparse forward/backward step against a dense implementation of the same step at 1%, 5%, 20%
 *       activity, through JMH ({@link SparseStepJmh}).
 * </ol>
 * Not a test: run with {@code gpu-engine/scripts/checkpoint-bench.sh}.
 */
public final class CheckpointBenchmark {
    private static final long BUDGET = 256L << 20;
    private static final long OFF_CHIP_BUDGET = 16L << 30;
    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private CheckpointBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/checkpointing.json");
        final Map<String, Object> figures = new LinkedHashMap<>();
        try (CpuBackend backend = new CpuBackend()) {
            longestWindows(backend, figures);
            overhead(backend, figures);
            verifiedLongRun(backend, figures);
            verifiedLongRunAtScale(backend, figures);
        }
        // The sparse versus dense step through JMH (forked JVMs), after the in-process measurements.
        figures.putAll(SparseStepJmh.run());
        BenchResults.write(out, "checkpointing", "gpu-engine/scripts/checkpoint-bench.sh", figures);
    }

    /** A model, its inputs and a bias that gives about {@code activity} of the neurons spiking per step. */
    private record Setup(LifParameters params, WindowInputs inputs, LifState initial, double activity) {
    }

    private static Setup setup(final ArrayBackend backend, final int hidden, final int batch, final int steps,
                               final double activity, final long seed) {
        final LifSettings s = new LifSettings(16, 16, hidden, 1, 0.9f, 10f, 1f, 10f, Float.NEGATIVE_INFINITY, 0.3f);
        final LifParameters params = new LifParameters(s);
        params.initialise(seed);
        final WindowInputs inputs = inputs(s, batch, steps, seed);
        final LifState initial = LifState.zero(batch, 1, hidden, false);
        final float[] base = params.values().clone();
        double lo = -3;
        double hi = 3;
        double measured = 0;
        for (int i = 0; i < 14; i++) {
            final double shift = (lo + hi) / 2;
            setBias(params, base, (float) shift);
            measured = activity(backend, params, inputs(s, batch, 64, seed + 1), initial);
            if (measured > activity) {
                hi = shift;
            } else {
                lo = shift;
            }
        }
        return new Setup(params, inputs, initial, measured);
    }

    private static void setBias(final LifParameters params, final float[] base, final float shift) {
        System.arraycopy(base, 0, params.values(), 0, base.length);
        for (final ParameterTensor t : params.tensors()) {
            if (t.name().endsWith("bias") && !t.name().startsWith("readout")) {
                for (int i = 0; i < t.size(); i++) {
                    params.values()[t.offset() + i] += shift;
                }
            }
        }
    }

    private static double activity(final ArrayBackend backend, final LifParameters params, final WindowInputs in,
                                   final LifState initial) {
        final LifWindow w = new LifWindow(backend, params, in, new float[params.size()]);
        LifState s = initial;
        for (int t = 0; t < in.steps(); t++) {
            s = w.step(s, t, true);
        }
        final double a = w.spikesEmitted() / (double) Math.max(1, w.neuronSteps());
        w.release();
        return a;
    }

    private static WindowInputs inputs(final LifSettings s, final int batch, final int steps, final long seed) {
        final SplittableRandom r = new SplittableRandom(seed);
        final int[][] rows = new int[batch * steps][];
        final float[][] scales = new float[batch * steps][];
        final int[] targets = new int[batch * steps];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new int[] {r.nextInt(s.vocabularySize()), s.vocabularySize() + r.nextInt(s.featureDimension())};
            scales[i] = new float[] {1f, (float) r.nextDouble()};
            targets[i] = r.nextInt(s.vocabularySize());
        }
        final int[] lengths = new int[batch];
        Arrays.fill(lengths, steps);
        return new WindowInputs(lengths, rows, scales, targets);
    }

    private static void longestWindows(final ArrayBackend backend, final Map<String, Object> figures) {
        final int hidden = 1024;
        final int batch = 16;
        final Setup setup = setup(backend, hidden, batch, 64, 0.05, 11);
        final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
        long stateBytes = 0;
        long tapeBytes = 0;
        long recordBytes = 0;
        LifState s = setup.initial();
        final ByteBuffer record = ByteBuffer.allocate(w.codec().maxEncodedBytes());
        final int steps = 64;
        for (int t = 0; t < steps; t++) {
            final RecurrentModel.Taped<LifState, LifTape> taped = w.stepWithTape(s, t);
            s = taped.state();
            stateBytes = Math.max(stateBytes, w.stateBytes(s));
            tapeBytes = Math.max(tapeBytes, w.tapeBytes(taped.tape()));
            record.clear();
            recordBytes = Math.max(recordBytes, w.codec().encode(s, record));
        }
        w.release();
        figures.put("model", "LIF hidden 1024, 1 layer, batch 16, vocabulary 16 + 16 features");
        figures.put("activity", BenchResults.round(setup.activity()));
        figures.put("device_budget_bytes", BUDGET);
        figures.put("offchip_budget_bytes", OFF_CHIP_BUDGET);
        figures.put("state_bytes", stateBytes);
        figures.put("tape_bytes", tapeBytes);
        figures.put("record_bytes", recordBytes);
        final long maxBptt = (BUDGET - stateBytes) / tapeBytes;
        final long maxUniform = largestFitting("uniform", stateBytes, tapeBytes);
        final CheckpointPlanner.Plan plan = CheckpointPlanner.plan("double", Integer.MAX_VALUE, stateBytes, tapeBytes,
                BUDGET);
        final Schedule.DoubleCheckpoint d = (Schedule.DoubleCheckpoint) plan.schedule();
        // Device memory of double checkpointing does not grow with T; the off-chip records do.
        final long maxDouble = OFF_CHIP_BUDGET / recordBytes * d.remoteInterval();
        figures.put("max_steps_bptt", maxBptt);
        figures.put("max_steps_uniform", maxUniform);
        figures.put("max_steps_double", maxDouble);
        figures.put("max_steps_double_schedule", d.describe());
        figures.put("max_steps_double_over_bptt", BenchResults.round((double) maxDouble / maxBptt));
        figures.put("max_steps_derivation", "bptt: T*tape + state <= budget; uniform: planner's sqrt-T schedule fits "
                + "the budget; double: planner's largest Cr for the budget, T limited by off-chip records "
                + "(record bytes per Cr steps within the off-chip budget)");
    }

    private static long largestFitting(final String schedule, final long s, final long tape) {
        long lo = 1;
        long hi = 1;
        while (fits(schedule, hi, s, tape)) {
            lo = hi;
            hi *= 2;
            if (hi > Integer.MAX_VALUE) {
                return Integer.MAX_VALUE;
            }
        }
        while (hi - lo > 1) {
            final long mid = (lo + hi) / 2;
            if (fits(schedule, mid, s, tape)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static boolean fits(final String schedule, final long steps, final long s, final long tape) {
        try {
            CheckpointPlanner.plan(schedule, (int) steps, s, tape, BUDGET);
            return true;
        } catch (final ScheduleDoesNotFitException e) {
            return false;
        }
    }

    private static void overhead(final ArrayBackend backend, final Map<String, Object> figures) {
        final int steps = 256;
        final Setup setup = setup(backend, 1024, 16, steps, 0.05, 21);
        final Schedule uniform = new Schedule.Uniform(16);
        final Schedule dbl = new Schedule.DoubleCheckpoint(64, 8);
        // {schedule, recompute ahead}: one thread (the spec's time model) and the next sub-segment recomputed on
        // a second thread during the backward sweep (the learner's default on more than one core)
        final Object[][] runs = {{new Schedule.Bptt(), false}, {uniform, false}, {dbl, false}, {uniform, true},
            {dbl, true}};
        final double[][] wall = new double[runs.length][9];
        final double[][] cpu = new double[runs.length][9];
        for (int rep = -2; rep < wall[0].length; rep++) {
            for (int k = 0; k < runs.length; k++) {
                final double[] t = timeWindow(backend, setup, steps, (Schedule) runs[k][0], (Boolean) runs[k][1]);
                if (rep >= 0) {
                    wall[k][rep] = t[0];
                    cpu[k][rep] = t[1];
                }
            }
        }
        final double bptt = median(wall[0]);
        final double bpttCpu = median(cpu[0]);
        figures.put("overhead_model", "LIF hidden 1024, batch 16, T 256, activity " + BenchResults.round(setup.activity()));
        figures.put("overhead_schedules", uniform.describe() + ", " + dbl.describe()
                + " (full reuse: pass 1 also builds the last remote segment's local checkpoints)");
        figures.put("overhead_method", "wall clock per window, median of 9 interleaved repeats; *_cpu: process CPU time "
                + "(all threads); recompute ahead: the next local sub-segment recomputed on a second thread during the "
                + "backward sweep of the current one (the learner's default on more than one core)");
        figures.put("bptt_ms_per_window", BenchResults.round(bptt));
        figures.put("uniform_ms_per_window", BenchResults.round(median(wall[3])));
        figures.put("double_ms_per_window", BenchResults.round(median(wall[4])));
        figures.put("uniform_overhead", BenchResults.round(median(wall[3]) / bptt - 1));
        figures.put("double_overhead", BenchResults.round(median(wall[4]) / bptt - 1));
        figures.put("uniform_overhead_cpu", BenchResults.round(median(cpu[3]) / bpttCpu - 1));
        figures.put("double_overhead_cpu", BenchResults.round(median(cpu[4]) / bpttCpu - 1));
        figures.put("uniform_ms_per_window_one_thread", BenchResults.round(median(wall[1])));
        figures.put("double_ms_per_window_one_thread", BenchResults.round(median(wall[2])));
        figures.put("uniform_overhead_one_thread", BenchResults.round(median(wall[1]) / bptt - 1));
        figures.put("double_overhead_one_thread", BenchResults.round(median(wall[2]) / bptt - 1));
        // The spec's time model (P14): 1 + (F/T - 1) t_f / (t_f + t_b), from measured forward and backward steps.
        final double tf = forwardMillis(backend, setup, steps) / steps;
        final double tb = bptt / steps - tf;
        final long f = dbl.forwardEvaluations(steps, Reuse.FULL);
        figures.put("forward_ms_per_step", BenchResults.round(tf));
        figures.put("backward_ms_per_step", BenchResults.round(tb));
        figures.put("double_overhead_predicted", BenchResults.round((f / (double) steps - 1) * tf / (tf + tb)));
    }

    /** Wall-clock and process CPU milliseconds of one window. */
    private static double[] timeWindow(final ArrayBackend backend, final Setup setup, final int steps,
                                       final Schedule schedule, final boolean recomputeAhead) {
        final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
        try (CheckpointExecutor ex = new CheckpointExecutor(new MemoryAccountant(), OffChipStores.hostMemory(),
                Reuse.FULL, true, recomputeAhead)) {
            final long cpu = PROCESS.getProcessCpuTime();
            final long start = System.nanoTime();
            ex.run(w, setup.initial(), steps, schedule);
            return new double[] {(System.nanoTime() - start) / 1e6, (PROCESS.getProcessCpuTime() - cpu) / 1e6};
        } finally {
            w.release();
        }
    }

    private static double forwardMillis(final ArrayBackend backend, final Setup setup, final int steps) {
        final double[] ms = new double[5];
        for (int rep = 0; rep < ms.length; rep++) {
            final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
            LifState s = setup.initial();
            final long start = System.nanoTime();
            for (int t = 0; t < steps; t++) {
                s = w.step(s, t, true);
            }
            ms[rep] = (System.nanoTime() - start) / 1e6;
            w.release();
        }
        return median(ms);
    }

    /**
     * The 30x target verified at the benchmark's own size: one window 30 times longer than the longest BPTT
     * fits (hidden 1024, batch 16, 256 MiB device budget enforced by the accountant), trained under the
     * planner's double schedule with recompute-ahead.
     */
    private static void verifiedLongRunAtScale(final ArrayBackend backend, final Map<String, Object> figures) {
        final int steps = (int) Math.min(Integer.MAX_VALUE, 30 * ((Number) figures.get("max_steps_bptt")).longValue());
        final Setup setup = setup(backend, 1024, 16, steps, 0.05, 41);
        final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
        final MemoryAccountant accountant = new MemoryAccountant(BUDGET, MemoryAccountant.UNLIMITED);
        final long stateBytes = ((Number) figures.get("state_bytes")).longValue();
        final long tapeBytes = ((Number) figures.get("tape_bytes")).longValue();
        final CheckpointPlanner.Plan plan = CheckpointPlanner.plan("double", steps, stateBytes, tapeBytes, BUDGET);
        try (CheckpointExecutor ex = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), Reuse.FULL, true,
                true)) {
            final long start = System.nanoTime();
            final CheckpointExecutor.Result<LifState> r = ex.run(w, setup.initial(), steps, plan.schedule());
            final CheckpointStats st = r.stats();
            figures.put("verified_double_at_scale_steps", steps);
            figures.put("verified_double_at_scale_over_max_bptt", 30);
            figures.put("verified_double_at_scale_schedule", plan.schedule().describe());
            figures.put("verified_double_at_scale_seconds", BenchResults.round((System.nanoTime() - start) / 1e9));
            figures.put("verified_double_at_scale_peak_device_bytes", st.peakDeviceBytes());
            figures.put("verified_double_at_scale_offchip_bytes_written", st.bytesWritten());
            figures.put("verified_double_at_scale_loss_per_target", BenchResults.round(w.lossSum()
                    / Math.max(1, setup.inputs().targetCount())));
        } finally {
            w.release();
        }
    }

    /** Double checkpointing over a million steps really runs, with device memory independent of T. */
    private static void verifiedLongRun(final ArrayBackend backend, final Map<String, Object> figures) {
        final int steps = 1_000_000;
        final Setup setup = setup(backend, 32, 1, steps, 0.05, 31);
        final long budget = 256L << 10;
        final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
        final MemoryAccountant accountant = new MemoryAccountant(budget, MemoryAccountant.UNLIMITED);
        try (CheckpointExecutor ex = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), true, true)) {
            final long start = System.nanoTime();
            final CheckpointExecutor.Result<LifState> r = ex.run(w, setup.initial(), steps,
                    new Schedule.DoubleCheckpoint(1000, 32));
            final CheckpointStats s = r.stats();
            figures.put("verified_double_steps", steps);
            figures.put("verified_double_model", "LIF hidden 32, batch 1, double(Cr=1000,Cl=32), device budget 256 KiB");
            figures.put("verified_double_seconds", BenchResults.round((System.nanoTime() - start) / 1e9));
            figures.put("verified_double_peak_device_bytes", s.peakDeviceBytes());
            figures.put("verified_double_offchip_bytes_written", s.bytesWritten());
            figures.put("verified_double_forward_evaluations", s.forwardEvaluations());
        } finally {
            w.release();
        }
    }

    private static double median(final double[] values) {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
