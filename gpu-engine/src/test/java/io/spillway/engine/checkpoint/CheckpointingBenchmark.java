package io.spillway.engine.checkpoint;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import io.spillway.engine.model.lif.LifParameters;
import io.spillway.engine.model.lif.LifSettings;
import io.spillway.engine.model.lif.LifState;
import io.spillway.engine.model.lif.LifWindow;
import io.spillway.engine.model.WindowInputs;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Schedule checks at scale, complementing {@code io.spillway.engine.bench.CheckpointBenchmark}
 * ({@code checkpointing.json}): the planner's longest window in a 256 MiB device budget at hidden 1024,
 * batch 16 from the accountant's measured slot bytes, verified by running double checkpointing past
 * standard checkpointing's reach (bookings of the LIF's sizes) and by training the LIF network itself past
 * BPTT's reach inside the budget; time overheads at about 5% activity and the time model of
 * docs/spec-double-checkpointing.md (P14). Writes {@code bench/results/checkpointing-schedules.json}. Not a test: run
 * {@code gpu-engine/scripts/checkpoint-schedules-bench.sh}.
 */
public final class CheckpointingBenchmark {
    private static final long BUDGET = 256L << 20;
    private static final long OFF_CHIP_BUDGET = 16L << 30;
    private static final int HIDDEN = 1024;
    private static final int BATCH = 16;
    private static final int VOCAB = 32;
    private static final int FEATURES = 16;

    private CheckpointingBenchmark() {
    }

    public static void main(final String[] args) throws IOException {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/checkpointing-schedules.json");
        final int overheadSteps = args.length > 1 ? Integer.parseInt(args[1]) : 600;
        final Map<String, Object> f = new LinkedHashMap<>();
        f.put("device_budget_bytes", BUDGET);
        f.put("hidden", HIDDEN);
        f.put("batch", BATCH);
        try (CpuBackend backend = new CpuBackend()) {
            final LifParameters params = calibrated(backend, 0.05);
            f.put("lif_weight_scale_for_5pct", round(scale));
            sizes(backend, params, f);
            maxSteps(f);
            verifyLong(f);
            verifyLif(backend, params, f);
            overheads(backend, params, overheadSteps, f);
        }
        write(out, f);
    }

    // ---- slot sizes measured through the accountant --------------------------------------------------

    private static double scale;

    private static LifSettings settings() {
        return new LifSettings(VOCAB, FEATURES, HIDDEN, 1, 0.9f, 10f, 1f, 10f, 0.9f, 0.2f);
    }

    /** Parameters whose global scale gives about {@code target} spike activity (bisection on forward steps). */
    private static LifParameters calibrated(final CpuBackend backend, final double target) {
        final LifParameters base = new LifParameters(settings());
        base.initialise(7);
        double lo = 0.01;
        double hi = 20;
        LifParameters best = base;
        for (int i = 0; i < 14; i++) {
            final double mid = Math.sqrt(lo * hi);
            final LifParameters p = scaled(base, mid);
            final double activity = activity(backend, p, 40);
            if (activity > target) {
                hi = mid;
            } else {
                lo = mid;
            }
            best = p;
            scale = mid;
        }
        return best;
    }

    private static LifParameters scaled(final LifParameters base, final double s) {
        final LifParameters p = new LifParameters(base.settings());
        final float[] from = base.values();
        final float[] to = p.values();
        for (int i = 0; i < from.length; i++) {
            to[i] = (float) (from[i] * s);
        }
        return p;
    }

    private static double activity(final CpuBackend backend, final LifParameters p, final int steps) {
        final LifWindow w = new LifWindow(backend, p, inputs(steps, 3), new float[p.size()]);
        LifState s = LifState.zero(BATCH, 1, HIDDEN, false);
        for (int t = 0; t < steps; t++) {
            s = w.step(s, t, false);
        }
        final double a = (double) w.spikesEmitted() / w.neuronSteps();
        w.release();
        return a;
    }

    static WindowInputs inputs(final int steps, final long seed) {
        final SplittableRandom r = new SplittableRandom(seed);
        final int[] lengths = new int[BATCH];
        java.util.Arrays.fill(lengths, steps);
        final int[][] rows = new int[BATCH * steps][];
        final float[][] scales = new float[BATCH * steps][];
        final int[] targets = new int[BATCH * steps];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new int[] {r.nextInt(VOCAB), VOCAB + r.nextInt(FEATURES)};
            scales[i] = new float[] {1f, (float) r.nextDouble()};
            targets[i] = r.nextInt(VOCAB);
        }
        return new WindowInputs(lengths, rows, scales, targets);
    }

    private static long stateBytes;
    private static long tapeBytes;

    /** Per-state and per-tape device bytes: BPTT peaks of two window lengths through the accountant. */
    private static void sizes(final CpuBackend backend, final LifParameters p, final Map<String, Object> f) {
        final long[] peaks = new long[2];
        final int[] lengths = {40, 80};
        for (int i = 0; i < 2; i++) {
            final MemoryAccountant accountant = new MemoryAccountant();
            final LifWindow w = new LifWindow(backend, p, inputs(lengths[i], 5), new float[p.size()]);
            try (CheckpointExecutor ex = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), false, false)) {
                final LifState s0 = LifState.zero(BATCH, 1, HIDDEN, false);
                final CheckpointExecutor.Result<LifState> r = ex.run(w, s0, lengths[i], new Schedule.Bptt());
                peaks[i] = r.stats().peakDeviceBytes();
                stateBytes = Math.max(stateBytes, w.stateBytes(r.finalState()));
                f.put("measured_activity", round((double) w.spikesEmitted() / w.neuronSteps()));
            }
            w.release();
        }
        tapeBytes = (peaks[1] - peaks[0]) / (lengths[1] - lengths[0]);
        f.put("state_bytes", stateBytes);
        f.put("tape_bytes", tapeBytes);
    }

    // ---- longest sequence in the budget -----------------------------------------------------------------

    private static boolean fits(final String kind, final int steps) {
        try {
            final CheckpointPlanner.Plan p = CheckpointPlanner.plan(kind, steps, stateBytes, tapeBytes, BUDGET);
            return p.predictedOffChipBytes() <= OFF_CHIP_BUDGET;
        } catch (final ScheduleDoesNotFitException e) {
            return false;
        }
    }

    private static int longest(final String kind) {
        int lo = 1;
        int hi = Integer.MAX_VALUE;
        if (fits(kind, hi)) {
            return hi;
        }
        while (hi - lo > 1) {
            final int mid = (int) (((long) lo + hi) >>> 1);
            if (fits(kind, mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static void maxSteps(final Map<String, Object> f) {
        final int bptt = longest("bptt");
        final int uniform = longest("uniform");
        final int dbl = longest("double");
        f.put("max_steps_bptt", bptt);
        f.put("max_steps_uniform", uniform);
        f.put("max_steps_double", dbl);
        f.put("max_steps_double_over_bptt", round((double) dbl / bptt));
        f.put("max_steps_uniform_over_bptt", round((double) uniform / bptt));
        f.put("max_steps_double_limited_by", dbl == Integer.MAX_VALUE ? "int window length (device bytes are "
                + "independent of T; off-chip bytes within the 16 GiB off-chip budget)" : "budget");
        final CheckpointPlanner.Plan at = CheckpointPlanner.plan("auto", 10_000_000, stateBytes, tapeBytes, BUDGET);
        f.put("planner_at_1e7_explanation", at.explanation());
        at.metrics().forEach((k, v) -> f.put("planner_at_1e7_" + k, v));
        f.put("max_steps_method", "derived: planner formulas with the accountant's measured state and tape bytes "
                + "of the LIF network (hidden 1024, batch 16); verified below by running double checkpointing");
    }

    /**
     * Runs double checkpointing over twice the longest uniform window (about 7 million steps) under a 256 MiB accountant budget with a model that books the
     * LIF's measured state and tape bytes (the schedule test model, 4 units: the LIF itself at hidden 1024,
     * batch 16 would take hours on this machine). BPTT over the same window fails the budget first.
     */
    private static void verifyLong(final Map<String, Object> f) {
        // Longer than standard checkpointing can reach in the budget, so the remote tier is used.
        final int steps = (int) Math.min(2_000_000_000L, 2L * (Integer) f.get("max_steps_uniform"));
        final ToyRnn model = new ToyRnn(4, steps, 3);
        model.declaredStateBytes = stateBytes;
        model.declaredTapeBytes = tapeBytes;
        final CheckpointPlanner.Plan plan = CheckpointPlanner.plan("double", steps, stateBytes, tapeBytes, BUDGET);
        final MemoryAccountant accountant = new MemoryAccountant(BUDGET, OFF_CHIP_BUDGET);
        final long start = System.nanoTime();
        try (CheckpointExecutor ex = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), true, true)) {
            final CheckpointStats s = ex.run(model, model.initial(), steps, plan.schedule()).stats();
            f.put("verified_double_steps", steps);
            f.put("verified_double_schedule", plan.schedule().describe());
            f.put("verified_double_peak_device_bytes", s.peakDeviceBytes());
            f.put("verified_double_off_chip_slab_bytes_test_model", accountant.peakBytes(MemoryTier.OFF_CHIP));
            f.put("verified_double_forward_evaluations", s.forwardEvaluations());
            f.put("verified_double_remote_transfers", s.remoteWrites() + s.remoteReads());
            f.put("verified_double_seconds", round((System.nanoTime() - start) / 1e9));
            f.put("verified_double_model", "schedule test model (4 units) booking the LIF's measured bytes per "
                    + "state and tape");
        }
        try (CheckpointExecutor ex = new CheckpointExecutor(new MemoryAccountant(BUDGET, OFF_CHIP_BUDGET),
                OffChipStores.hostMemory(), false, false)) {
            final ToyRnn bptt = new ToyRnn(4, steps, 3);
            bptt.declaredStateBytes = stateBytes;
            bptt.declaredTapeBytes = tapeBytes;
            ex.run(bptt, bptt.initial(), steps, new Schedule.Bptt());
            f.put("verified_bptt_fails_budget", 0);
        } catch (final io.spillway.engine.memory.MemoryBudgetExceededException e) {
            f.put("verified_bptt_fails_budget", 1);
        }
        f.put("verified_uniform_fails_plan", fits("uniform", steps) ? 0 : 1);
    }

    /**
     * The engine's LIF network itself (hidden 1024, batch 16, ~5% activity) over a window longer than BPTT can
     * hold in 256 MiB: BPTT fails the accountant's budget, the planner's schedule trains the window inside it.
     */
    private static void verifyLif(final CpuBackend backend, final LifParameters p, final Map<String, Object> f) {
        final int steps = 2 * (Integer) f.get("max_steps_bptt") + 500;
        final WindowInputs in = inputs(steps, 13);
        final LifWindow bpttWindow = new LifWindow(backend, p, in, new float[p.size()]);
        try (CheckpointExecutor ex = new CheckpointExecutor(new MemoryAccountant(BUDGET, OFF_CHIP_BUDGET),
                OffChipStores.hostMemory(), true, true)) {
            ex.run(bpttWindow, LifState.zero(BATCH, 1, HIDDEN, false), steps, new Schedule.Bptt());
            f.put("verified_lif_bptt_fails_budget", 0);
        } catch (final io.spillway.engine.memory.MemoryBudgetExceededException e) {
            f.put("verified_lif_bptt_fails_budget", 1);
        } finally {
            bpttWindow.release();
        }
        final CheckpointPlanner.Plan plan = CheckpointPlanner.plan("double", steps, stateBytes, tapeBytes, BUDGET);
        final LifWindow w = new LifWindow(backend, p, in, new float[p.size()]);
        final MemoryAccountant accountant = new MemoryAccountant(BUDGET, OFF_CHIP_BUDGET);
        try (CheckpointExecutor ex = new CheckpointExecutor(accountant, OffChipStores.hostMemory(), true, true)) {
            final long t0 = System.nanoTime();
            final CheckpointStats s = ex.run(w, LifState.zero(BATCH, 1, HIDDEN, false), steps, plan.schedule()).stats();
            f.put("verified_lif_double_steps", steps);
            f.put("verified_lif_double_schedule", plan.schedule().describe());
            f.put("verified_lif_double_peak_device_bytes", s.peakDeviceBytes());
            f.put("verified_lif_double_predicted_device_bytes", plan.predictedDeviceBytes());
            f.put("verified_lif_double_bytes_spilled", s.bytesWritten());
            f.put("verified_lif_double_seconds", round((System.nanoTime() - t0) / 1e9));
            f.put("verified_lif_activity", round((double) w.spikesEmitted() / w.neuronSteps()));
        } finally {
            w.release();
        }
    }

    // ---- time overheads on the LIF ----------------------------------------------------------------------

    private static double runSeconds(final CpuBackend backend, final LifParameters p, final WindowInputs in,
                                     final int steps, final Schedule schedule, final long[] counters) {
        final LifWindow w = new LifWindow(backend, p, in, new float[p.size()]);
        try (CheckpointExecutor ex = new CheckpointExecutor(new MemoryAccountant(), OffChipStores.hostMemory(), true,
                true)) {
            final long t0 = cpuNanos();
            final CheckpointStats s = ex.run(w, LifState.zero(BATCH, 1, HIDDEN, false), steps, schedule).stats();
            final double sec = (cpuNanos() - t0) / 1e9;
            counters[0] = s.forwardEvaluations();
            counters[1] = w.spikesEmitted();
            counters[2] = w.neuronSteps();
            return sec;
        } finally {
            w.release();
        }
    }

    /**
     * CPU time of the trainer thread: the machine is shared, and wall time there mostly measures the
     * neighbours (the model's products run on this thread; the prefetch thread only copies records).
     */
    private static long cpuNanos() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    private static void overheads(final CpuBackend backend, final LifParameters p, final int steps,
                                  final Map<String, Object> f) {
        final WindowInputs in = inputs(steps, 11);
        final int c = CheckpointPlanner.uniformInterval(steps, stateBytes, tapeBytes);
        final int cr = Math.max(4, steps / 4);
        final int cl = (int) Math.max(1, Math.round(Math.sqrt(cr)));
        final Schedule[] schedules = {new Schedule.Bptt(), new Schedule.Uniform(c), new Schedule.DoubleCheckpoint(cr, cl)};
        final double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        final long[][] counters = new long[3][3];
        runSeconds(backend, p, inputs(50, 12), 50, schedules[0], new long[3]); // warm-up
        for (int rep = 0; rep < 5; rep++) { // interleaved, best of five (the machine is shared)
            for (int i = 0; i < 3; i++) {
                best[i] = Math.min(best[i], runSeconds(backend, p, in, steps, schedules[i], counters[i]));
            }
        }
        f.put("overhead_steps", steps);
        f.put("overhead_timing", "trainer-thread CPU time, best of 5 interleaved runs");
        f.put("overhead_activity", round((double) counters[0][1] / counters[0][2]));
        f.put("overhead_uniform_schedule", schedules[1].describe());
        f.put("overhead_double_schedule", schedules[2].describe());
        f.put("bptt_ms_per_step", round(best[0] * 1e3 / steps));
        f.put("uniform_ms_per_step", round(best[1] * 1e3 / steps));
        f.put("double_ms_per_step", round(best[2] * 1e3 / steps));
        // overhead as in the spec's time model: extra time per trained step over BPTT, as a fraction
        f.put("uniform_overhead", round(best[1] / best[0] - 1));
        f.put("double_overhead", round(best[2] / best[0] - 1));
        // P14: t_f from a forward-only pass, t_b from BPTT minus its taped forward pass.
        final LifWindow w = new LifWindow(backend, p, in, new float[p.size()]);
        LifState s = LifState.zero(BATCH, 1, HIDDEN, false);
        double tf = Double.MAX_VALUE;
        for (int rep = 0; rep < 3; rep++) {
            s = LifState.zero(BATCH, 1, HIDDEN, false);
            final long t0 = cpuNanos();
            for (int t = 0; t < steps; t++) {
                s = w.step(s, t, false);
            }
            tf = Math.min(tf, (cpuNanos() - t0) / 1e9 / steps);
        }
        w.release();
        final double tb = best[0] / steps - tf;
        f.put("t_f_ms", round(tf * 1e3));
        f.put("t_b_ms", round(tb * 1e3));
        for (int i = 1; i < 3; i++) {
            final double ratio = (double) counters[i][0] / steps;
            final double predicted = 1 + (ratio - 1) * tf / (tf + tb);
            final String name = i == 1 ? "uniform" : "double";
            f.put("p14_" + name + "_time_ratio_predicted", round(predicted));
            f.put("p14_" + name + "_time_ratio_measured", round(best[i] / best[0]));
            f.put("p14_" + name + "_within_20pct", Math.abs(best[i] / best[0] / predicted - 1) <= 0.2 ? 1 : 0);
        }
    }

    // ---- output -------------------------------------------------------------------------------------------

    private static double round(final double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    private static void write(final Path out, final Map<String, Object> f) throws IOException {
        final StringBuilder json = new StringBuilder("{\n");
        json.append("  \"benchmark\": \"checkpointing-schedules\",\n");
        json.append("  \"machine\": \"").append(machine()).append("\",\n");
        json.append("  \"date\": \"").append(LocalDate.now(ZoneOffset.UTC)).append("\",\n");
        json.append("  \"command\": \"gpu-engine/scripts/checkpoint-schedules-bench.sh\",\n");
        json.append("  \"figures\": {\n");
        int i = 0;
        for (final Map.Entry<String, Object> e : f.entrySet()) {
            json.append("    \"").append(e.getKey()).append("\": ");
            if (e.getValue() instanceof Number) {
                json.append(e.getValue());
            } else {
                json.append('"').append(String.valueOf(e.getValue()).replace("\\", "\\\\").replace("\"", "'"))
                        .append('"');
            }
            json.append(++i < f.size() ? ",\n" : "\n");
        }
        json.append("  }\n}\n");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, json.toString());
        System.out.println(json);
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (final IOException e) {
            // keep the placeholder
        }
        final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return String.format(Locale.ROOT, "CPU: %s, %d cores, %d GiB; JVM heap %d MiB", cpu.replace("\"", "'"),
                Runtime.getRuntime().availableProcessors(), os.getTotalMemorySize() >> 30,
                Runtime.getRuntime().maxMemory() >> 20);
    }
}
