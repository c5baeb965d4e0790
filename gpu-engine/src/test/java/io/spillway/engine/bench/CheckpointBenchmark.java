package io.spillway.engine.bench;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.DenseMatrix;
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
import io.spillway.engine.model.LifParameters;
import io.spillway.engine.model.LifSettings;
import io.spillway.engine.model.LifState;
import io.spillway.engine.model.LifTape;
import io.spillway.engine.model.LifWindow;
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
 *       from the measured state, tape and record sizes and the spec's formulas; and one verified long run
 *       of double checkpointing at a million steps (smaller model, so it finishes in minutes here);
 *   <li>time per trained step of uniform and double checkpointing relative to BPTT where BPTT fits,
 *       interleaved repeats, medians;
 *   <li>the sparse forward/backward step against a dense implementation of the same step at 1%, 5%, 20%
 *       activity.
 * </ol>
 * Not a test: run with {@code gpu-engine/scripts/checkpoint-bench.sh}.
 */
public final class CheckpointBenchmark {
    private static final long BUDGET = 256L << 20;
    private static final long OFF_CHIP_BUDGET = 16L << 30;

    private CheckpointBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/checkpointing.json");
        final Map<String, Object> figures = new LinkedHashMap<>();
        try (CpuBackend backend = new CpuBackend()) {
            longestWindows(backend, figures);
            overhead(backend, figures);
            sparseVersusDense(backend, figures);
            verifiedLongRun(backend, figures);
        }
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
        for (final LifParameters.Tensor t : params.tensors()) {
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
        final Schedule[] schedules = {new Schedule.Bptt(), new Schedule.Uniform(16), new Schedule.DoubleCheckpoint(64, 8)};
        final double[][] ms = new double[schedules.length][7];
        for (int rep = -1; rep < ms[0].length; rep++) {
            for (int k = 0; k < schedules.length; k++) {
                final double t = timeWindow(backend, setup, steps, schedules[k]);
                if (rep >= 0) {
                    ms[k][rep] = t;
                }
            }
        }
        final double bptt = median(ms[0]);
        figures.put("overhead_model", "LIF hidden 1024, batch 16, T 256, activity " + BenchResults.round(setup.activity()));
        figures.put("bptt_ms_per_window", BenchResults.round(bptt));
        figures.put("uniform_ms_per_window", BenchResults.round(median(ms[1])));
        figures.put("double_ms_per_window", BenchResults.round(median(ms[2])));
        figures.put("uniform_overhead", BenchResults.round(median(ms[1]) / bptt - 1));
        figures.put("double_overhead", BenchResults.round(median(ms[2]) / bptt - 1));
        figures.put("overhead_schedules", schedules[1].describe() + ", " + schedules[2].describe()
                + " (full reuse: pass 1 also builds the last remote segment's local checkpoints)");
        // The spec's time model (P14): 1 + (F/T - 1) t_f / (t_f + t_b), from measured forward and backward steps.
        final double tf = forwardMillis(backend, setup, steps) / steps;
        final double tb = bptt / steps - tf;
        final long f = schedules[2].forwardEvaluations(steps, Reuse.FULL);
        figures.put("forward_ms_per_step", BenchResults.round(tf));
        figures.put("backward_ms_per_step", BenchResults.round(tb));
        figures.put("double_overhead_predicted", BenchResults.round((f / (double) steps - 1) * tf / (tf + tb)));
    }

    private static double timeWindow(final ArrayBackend backend, final Setup setup, final int steps,
                                     final Schedule schedule) {
        final LifWindow w = new LifWindow(backend, setup.params(), setup.inputs(), new float[setup.params().size()]);
        try (CheckpointExecutor ex = new CheckpointExecutor(new MemoryAccountant(), OffChipStores.hostMemory(),
                Reuse.FULL, true)) {
            final long start = System.nanoTime();
            ex.run(w, setup.initial(), steps, schedule);
            return (System.nanoTime() - start) / 1e6;
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

    /** The recurrent input and its weight gradient, sparse (rows of spiking neurons) vs dense (all rows). */
    private static void sparseVersusDense(final ArrayBackend backend, final Map<String, Object> figures) {
        final int n = 1024;
        final int batch = 16;
        final SplittableRandom r = new SplittableRandom(5);
        final float[] w = new float[n * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian() * 0.03f;
        }
        final DenseMatrix wm = backend.upload(w, 0, n, n);
        final float[] grad = new float[n * n];
        final float[] delta = new float[batch * n];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = (float) r.nextGaussian();
        }
        for (final double activity : new double[] {0.01, 0.05, 0.20}) {
            final int k = (int) Math.round(activity * n);
            final int[][] ids = new int[batch][];
            final float[] dense = new float[batch * n];
            for (int b = 0; b < batch; b++) {
                ids[b] = r.ints(0, n).distinct().limit(k).sorted().toArray();
                for (final int id : ids[b]) {
                    dense[b * n + id] = 1f;
                }
            }
            final float[] out = new float[batch * n];
            final double sparseMs = best(() -> {
                Arrays.fill(out, 0f);
                for (int b = 0; b < batch; b++) {
                    backend.gatherRows(w, 0, n, ids[b], null, 0, ids[b].length, out, b * n);
                }
                for (int b = 0; b < batch; b++) {
                    backend.scatterAddRows(grad, 0, n, ids[b], null, 0, ids[b].length, delta, b * n);
                }
            });
            final double denseMs = best(() -> {
                backend.multiply(wm, dense, batch, out, false);
                backend.accumulateOuter(grad, 0, n, n, dense, delta, batch);
            });
            final String pct = Integer.toString((int) Math.round(activity * 100));
            figures.put("sparse_step_ms_" + pct + "pct", BenchResults.round(sparseMs));
            figures.put("dense_step_ms_" + pct + "pct", BenchResults.round(denseMs));
            figures.put("sparse_step_speedup_" + pct + "pct", BenchResults.round(denseMs / sparseMs));
        }
        figures.put("sparse_step_shape", "recurrent input + its weight gradient, N 1024, batch 16 (dense: OpenBLAS "
                + "gemm and outer product; sparse: row gather and scatter of spiking neurons)");
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

    private static double best(final Runnable work) {
        for (int i = 0; i < 3; i++) {
            work.run();
        }
        final double[] ms = new double[15];
        for (int i = 0; i < ms.length; i++) {
            final long start = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        return median(ms);
    }

    private static double median(final double[] values) {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
