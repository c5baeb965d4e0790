package io.spillway.engine.checkpoint;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Picks a schedule and its intervals for a window from the device-memory budget (docs/spec-double-checkpointing.md
 * §2.7): BPTT when every tape fits; else standard checkpointing at its optimal interval when that
 * fits; else one of the remote schemes: remote checkpointing when a {@link TransferCost} says its extra
 * round trips cost less than the extra forward pass, double checkpointing with the largest remote
 * interval the budget admits and the optimal local interval otherwise. A requested schedule is sized the
 * same way. When nothing fits, it fails before training with the numbers that did not fit.
 *
 * <p>Predicted device bytes are what {@link CheckpointExecutor} books at its peak: the spec's local
 * formula (checkpoints, tapes, staging buffers: two for remote, one for double) plus the working state
 * being advanced. Stateless and thread-safe.
 */
public final class CheckpointPlanner {
    /** Staging buffers of remote checkpointing: the segment's start state and the prefetch in flight. */
    static final int REMOTE_STAGING = 2;
    /** Staging buffers of double checkpointing: the prefetch in flight (the start becomes a local checkpoint). */
    static final int DOUBLE_STAGING = 1;

    private CheckpointPlanner() {
    }

    /**
     * Costs of moving one checkpoint off-chip and back, for the remote-versus-double choice
     * (docs/spec-double-checkpointing.md §2.7 step 3). Units: seconds and bytes per second.
     *
     * @param latencySeconds fixed cost of one transfer (lambda)
     * @param bytesPerSecond bandwidth between device and off-chip memory
     * @param forwardStepSeconds time of one forward step t_f
     */
    public record TransferCost(double latencySeconds, double bytesPerSecond, double forwardStepSeconds) {
        public TransferCost {
            if (!(latencySeconds >= 0) || !(bytesPerSecond > 0) || !(forwardStepSeconds > 0)) {
                throw new IllegalArgumentException("transfer cost needs latency >= 0, bandwidth > 0 and t_f > 0: "
                        + latencySeconds + ", " + bytesPerSecond + ", " + forwardStepSeconds);
            }
        }

        /** Seconds to move one checkpoint of {@code bytes} one way. */
        double transferSeconds(final long bytes) {
            return latencySeconds + bytes / bytesPerSecond;
        }
    }

    /**
     * The chosen schedule, its predicted costs and why it was chosen.
     *
     * @param schedule what to run
     * @param predictedDeviceBytes the executor's peak device bookings (spec formula plus the working state)
     * @param predictedOffChipBytes remote checkpoints times the state size (0 without a remote tier)
     * @param forwardEvaluations forward steps per window without tail reuse (T, 2T or 3T)
     * @param remoteTransfers checkpoint copies per window, writes plus reads
     * @param bpttDeviceBytes what full BPTT would need, for comparison
     * @param explanation one line for logs, e.g. why BPTT was not possible
     */
    public record Plan(Schedule schedule, long predictedDeviceBytes, long predictedOffChipBytes,
                       long forwardEvaluations, long remoteTransfers, long bpttDeviceBytes, String explanation) {

        /** {@code bptt}, {@code uniform}, {@code remote} or {@code double}. */
        public String kind() {
            return switch (schedule) {
                case Schedule.Bptt b -> "bptt";
                case Schedule.Uniform u -> "uniform";
                case Schedule.Remote r -> "remote";
                case Schedule.DoubleCheckpoint d -> "double";
            };
        }

        /** Flat figures for metrics: intervals (0 where a schedule has none), bytes and counts. */
        public Map<String, Number> metrics() {
            final Map<String, Number> m = new LinkedHashMap<>();
            final int[] intervals = switch (schedule) {
                case Schedule.Bptt b -> new int[] {0, 0};
                case Schedule.Uniform u -> new int[] {0, u.interval()};
                case Schedule.Remote r -> new int[] {r.interval(), 0};
                case Schedule.DoubleCheckpoint d -> new int[] {d.remoteInterval(), d.localInterval()};
            };
            m.put("remote_interval", intervals[0]);
            m.put("local_interval", intervals[1]);
            m.put("predicted_device_bytes", predictedDeviceBytes);
            m.put("predicted_off_chip_bytes", predictedOffChipBytes);
            m.put("forward_evaluations", forwardEvaluations);
            m.put("remote_transfers", remoteTransfers);
            m.put("bptt_device_bytes", bpttDeviceBytes);
            return m;
        }
    }

    /** Same as {@link #plan(String, int, long, long, long, TransferCost)} without transfer costs (double wins). */
    public static Plan plan(final String requested, final int steps, final long stateBytes, final long tapeBytes,
                            final long budget) {
        return plan(requested, steps, stateBytes, tapeBytes, budget, null);
    }

    /**
     * @param requested {@code auto}, {@code bptt}, {@code uniform}, {@code remote} or {@code double}
     * @param steps window length T
     * @param stateBytes bytes of one carried state
     * @param tapeBytes bytes of one step's tape
     * @param budget device bytes available to the window
     * @param cost transfer costs for the remote-versus-double choice; null picks double
     * @throws ScheduleDoesNotFitException when the requested (or any, for {@code auto}) schedule exceeds the budget
     */
    public static Plan plan(final String requested, final int steps, final long stateBytes, final long tapeBytes,
                            final long budget, final TransferCost cost) {
        if (steps <= 0 || stateBytes <= 0 || tapeBytes <= 0 || budget <= 0) {
            throw new IllegalArgumentException("bad planning input: T=" + steps + " state=" + stateBytes + " B tape="
                    + tapeBytes + " B budget=" + budget + " B");
        }
        final Sizes z = new Sizes(steps, stateBytes, tapeBytes, budget);
        return switch (requested.toLowerCase(Locale.ROOT)) {
            case "bptt" -> fit(z, new Schedule.Bptt(), "requested");
            case "uniform" -> fit(z, new Schedule.Uniform(uniformInterval(steps, stateBytes, tapeBytes)), "requested");
            case "remote" -> fit(z, new Schedule.Remote(remoteInterval(z)), "requested");
            case "double" -> fit(z, doubleSchedule(z), "requested");
            case "auto" -> auto(z, cost);
            default -> throw new IllegalArgumentException("unknown checkpoint schedule '" + requested
                    + "': expected auto, bptt, uniform, remote or double");
        };
    }

    private record Sizes(int steps, long s, long tape, long budget) {
    }

    private static Plan auto(final Sizes z, final TransferCost cost) {
        final long bptt = deviceBytes(z, new Schedule.Bptt());
        if (bptt <= z.budget()) {
            return plan(z, new Schedule.Bptt(), String.format(Locale.ROOT, "all %d tapes fit (%s of %s)", z.steps(),
                    mib(bptt), mib(z.budget())));
        }
        final Schedule.Uniform uniform = new Schedule.Uniform(uniformInterval(z.steps(), z.s(), z.tape()));
        final long uniformBytes = deviceBytes(z, uniform);
        if (uniformBytes <= z.budget()) {
            return plan(z, uniform, String.format(Locale.ROOT,
                    "bptt needs %s > budget %s; standard checkpointing needs %s, one extra pass and no transfers",
                    mib(bptt), mib(z.budget()), mib(uniformBytes)));
        }
        final String why = String.format(Locale.ROOT, "bptt needs %s and standard checkpointing %s > budget %s",
                mib(bptt), mib(uniformBytes), mib(z.budget()));
        if (cost != null) {
            final Schedule.Remote remote = new Schedule.Remote(remoteInterval(z));
            final double trips = 2.0 * remote.remoteWrites(z.steps()) * cost.transferSeconds(z.s());
            final double extraPass = z.steps() * cost.forwardStepSeconds();
            if (trips < extraPass && deviceBytes(z, remote) <= z.budget()) {
                return fit(z, remote, String.format(Locale.ROOT,
                        "%s; remote round trips %.3g s < one extra forward pass %.3g s", why, trips, extraPass));
            }
            return fit(z, doubleSchedule(z), String.format(Locale.ROOT,
                    "%s; remote round trips %.3g s >= one extra forward pass %.3g s", why, trips, extraPass));
        }
        return fit(z, doubleSchedule(z), why);
    }

    /**
     * Largest C_r whose optimal local set fits (docs/spec-double-checkpointing.md §2.5 budget setting), C_l = sqrt(C_r
     * |s| / |tape|).
     */
    private static Schedule.DoubleCheckpoint doubleSchedule(final Sizes z) {
        final double room = z.budget() - (1.0 + DOUBLE_STAGING) * z.s();
        final double crMax = room > 0 ? room * room / (4.0 * z.s() * z.tape()) : 1;
        int cr = (int) Math.max(1, Math.min(z.steps(), Math.floor(crMax)));
        Schedule.DoubleCheckpoint d = new Schedule.DoubleCheckpoint(cr, localInterval(cr, z));
        // Rounding can overshoot by a slot: shrink until the exact formula fits (or nothing does).
        while (deviceBytes(z, d) > z.budget() && cr > 1) {
            cr = Math.max(1, (int) (cr * 0.95));
            d = new Schedule.DoubleCheckpoint(cr, localInterval(cr, z));
        }
        return d;
    }

    private static int localInterval(final int cr, final Sizes z) {
        return (int) Math.max(1, Math.min(cr, Math.round(Math.sqrt(cr * (double) z.s() / z.tape()))));
    }

    /**
     * C = floor((M - staging - working) / |tape|), at least 1 and at most T (docs/spec-double-checkpointing.md §2.7
     * step 3).
     */
    private static int remoteInterval(final Sizes z) {
        final long room = z.budget() - (1L + REMOTE_STAGING) * z.s();
        return (int) Math.max(1, Math.min(z.steps(), room / z.tape()));
    }

    static int uniformInterval(final int steps, final long s, final long tape) {
        return (int) Math.max(1, Math.min(steps, Math.round(Math.sqrt(steps * (double) s / tape))));
    }

    /**
     * Peak device bytes the executor books for {@code schedule} over a window, without tail reuse, with
     * fixed-size states and tapes: the spec's local-memory formula plus the working state. For uniform and
     * double it is exact when the interval divides the (segment) length and an upper bound otherwise.
     */
    public static long deviceBytes(final int steps, final long s, final long tape, final Schedule schedule) {
        return deviceBytes(new Sizes(steps, s, tape, Long.MAX_VALUE), schedule);
    }

    private static long deviceBytes(final Sizes z, final Schedule schedule) {
        final int t = z.steps();
        return z.s() + switch (schedule) {
            case Schedule.Bptt b -> (long) t * z.tape();
            case Schedule.Uniform u -> (long) Schedule.ceilDiv(t, u.interval()) * z.s()
                    + (long) Math.min(u.interval(), t) * z.tape();
            case Schedule.Remote r -> (long) Math.min(r.interval(), t) * z.tape()
                    + (long) (r.remoteWrites(t) > 1 ? REMOTE_STAGING : 1) * z.s();
            case Schedule.DoubleCheckpoint d -> {
                final int cr = Math.min(d.remoteInterval(), t);
                yield (long) Schedule.ceilDiv(cr, d.localInterval()) * z.s()
                        + (long) Math.min(d.localInterval(), cr) * z.tape() + (long) DOUBLE_STAGING * z.s();
            }
        };
    }

    private static Plan fit(final Sizes z, final Schedule schedule, final String why) {
        final long bytes = deviceBytes(z, schedule);
        if (bytes > z.budget()) {
            throw new ScheduleDoesNotFitException(String.format(Locale.ROOT,
                    "checkpoint schedule %s needs %s of device memory for T=%d (state %,d B, tape %,d B) but the "
                            + "budget is %s (%s); raise --device-memory, shorten the chunk, or use a smaller batch "
                            + "or model", schedule.describe(), mib(bytes), z.steps(), z.s(), z.tape(),
                    mib(z.budget()), why));
        }
        return plan(z, schedule, why);
    }

    private static Plan plan(final Sizes z, final Schedule schedule, final String why) {
        final long bytes = deviceBytes(z, schedule);
        final int writes = schedule.remoteWrites(z.steps());
        final String line = String.format(Locale.ROOT, "%s: %s; device %s%s", schedule.describe(), why, mib(bytes),
                writes == 0 ? "" : String.format(Locale.ROOT, ", off-chip %d checkpoints (%s), %d transfers", writes,
                        mib(writes * z.s()), 2 * writes));
        return new Plan(schedule, bytes, writes * z.s(), schedule.forwardEvaluations(z.steps(), false), 2L * writes,
                deviceBytes(z, new Schedule.Bptt()), line);
    }

    private static String mib(final long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
    }
}
