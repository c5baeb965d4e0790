package io.spillway.engine.checkpoint;

import java.util.Locale;

/**
 * Picks a schedule and its intervals for a window from the device-memory budget (double-checkpointing
 * spec §2.7): BPTT when every tape fits; else standard checkpointing at its optimal interval when that
 * fits; else double checkpointing with the largest remote interval the budget admits and the optimal
 * local interval. A requested schedule is sized the same way. When nothing fits, it fails before training
 * with the numbers that did not fit.
 */
public final class CheckpointPlanner {
    /** States reserved beside the slots: the rolling state and one staging buffer for a remote read. */
    static final int STAGING_STATES = 2;

    private CheckpointPlanner() {
    }

    /**
     * The chosen schedule, its predicted device bytes and why it was chosen.
     *
     * @param schedule what to run
     * @param predictedDeviceBytes slots, tapes and staging states, from the spec's formulas
     * @param explanation one line for logs, e.g. why BPTT was not possible
     */
    public record Plan(Schedule schedule, long predictedDeviceBytes, String explanation) {
    }

    /**
     * @param requested {@code auto}, {@code bptt}, {@code uniform}, {@code remote} or {@code double}
     * @param steps window length T
     * @param stateBytes bytes of one carried state
     * @param tapeBytes bytes of one step's tape
     * @param budget device bytes available to the window
     * @throws ScheduleDoesNotFitException when the requested (or any, for {@code auto}) schedule exceeds the budget
     */
    public static Plan plan(final String requested, final int steps, final long stateBytes, final long tapeBytes,
                            final long budget) {
        if (steps <= 0 || stateBytes <= 0 || tapeBytes <= 0 || budget <= 0) {
            throw new IllegalArgumentException("bad planning input: T=" + steps + " state=" + stateBytes + " B tape="
                    + tapeBytes + " B budget=" + budget + " B");
        }
        final long bpttBytes = bpttBytes(steps, stateBytes, tapeBytes);
        return switch (requested.toLowerCase(Locale.ROOT)) {
            case "bptt" -> fit(new Schedule.Bptt(), bpttBytes, budget, "requested");
            case "uniform" -> {
                final int c = uniformInterval(steps, stateBytes, tapeBytes);
                yield fit(new Schedule.Uniform(c), uniformBytes(steps, c, stateBytes, tapeBytes), budget, "requested");
            }
            case "remote" -> {
                final long room = budget - STAGING_STATES * stateBytes;
                final int c = (int) Math.max(1, Math.min(steps, room / tapeBytes));
                yield fit(new Schedule.Remote(c), remoteBytes(steps, c, stateBytes, tapeBytes), budget, "requested");
            }
            case "double" -> doublePlan(steps, stateBytes, tapeBytes, budget, "requested");
            case "auto" -> auto(steps, stateBytes, tapeBytes, budget, bpttBytes);
            default -> throw new IllegalArgumentException("unknown checkpoint schedule '" + requested
                    + "': expected auto, bptt, uniform, remote or double");
        };
    }

    private static Plan auto(final int steps, final long s, final long tape, final long budget, final long bpttBytes) {
        if (bpttBytes <= budget) {
            return new Plan(new Schedule.Bptt(), bpttBytes, String.format(Locale.ROOT,
                    "bptt: all %d tapes fit (%s of %s)", steps, mib(bpttBytes), mib(budget)));
        }
        final int c = uniformInterval(steps, s, tape);
        final long uniform = uniformBytes(steps, c, s, tape);
        if (uniform <= budget) {
            return new Plan(new Schedule.Uniform(c), uniform, String.format(Locale.ROOT,
                    "uniform(C=%d): bptt needs %s > budget %s; standard checkpointing needs %s and no transfers",
                    c, mib(bpttBytes), mib(budget), mib(uniform)));
        }
        return doublePlan(steps, s, tape, budget, String.format(Locale.ROOT,
                "bptt needs %s and standard checkpointing %s > budget %s", mib(bpttBytes), mib(uniform), mib(budget)));
    }

    private static Plan doublePlan(final int steps, final long s, final long tape, final long budget,
                                   final String why) {
        final double room = budget - STAGING_STATES * (double) s;
        // Largest C_r whose optimal local set fits: 2 sqrt(C_r |s| |tape|) <= room (spec §2.5).
        final double crMax = room > 0 ? room * room / (4.0 * s * tape) : 0;
        int cr = (int) Math.max(1, Math.min(steps, Math.floor(crMax)));
        int cl = (int) Math.max(1, Math.min(cr, Math.round(Math.sqrt(cr * (double) s / tape))));
        // Rounding can overshoot by a slot: shrink until the exact formula fits (or nothing does).
        while (doubleBytes(cr, cl, s, tape) > budget && cr > 1) {
            cr = Math.max(1, (int) (cr * 0.9));
            cl = (int) Math.max(1, Math.min(cr, Math.round(Math.sqrt(cr * (double) s / tape))));
        }
        final long bytes = doubleBytes(cr, cl, s, tape);
        final Schedule.DoubleCheckpoint d = new Schedule.DoubleCheckpoint(cr, cl);
        fit(d, bytes, budget, why); // throws when even the smallest intervals exceed the budget
        return new Plan(d, bytes, String.format(Locale.ROOT,
                "%s: %s; device %s constant in T, off-chip %d checkpoints, %d remote reads", d.describe(), why,
                mib(bytes), d.remoteWrites(steps), d.remoteWrites(steps)));
    }

    private static Plan fit(final Schedule schedule, final long bytes, final long budget, final String why) {
        if (bytes > budget) {
            throw new ScheduleDoesNotFitException(String.format(Locale.ROOT,
                    "checkpoint schedule %s needs %s of device memory but the budget is %s (%s); raise "
                            + "--device-memory, shorten the chunk, or use a smaller batch or model",
                    schedule.describe(), mib(bytes), mib(budget), why));
        }
        return new Plan(schedule, bytes, schedule.describe() + ": " + why);
    }

    static long bpttBytes(final int steps, final long s, final long tape) {
        return steps * tape + s;
    }

    static int uniformInterval(final int steps, final long s, final long tape) {
        return (int) Math.max(1, Math.min(steps, Math.round(Math.sqrt(steps * (double) s / tape))));
    }

    static long uniformBytes(final int steps, final int c, final long s, final long tape) {
        return (long) Schedule.ceilDiv(steps, c) * s + Math.min(c, steps) * tape + s;
    }

    static long remoteBytes(final int steps, final int c, final long s, final long tape) {
        return Math.min(c, steps) * tape + STAGING_STATES * s;
    }

    static long doubleBytes(final int cr, final int cl, final long s, final long tape) {
        return (long) Schedule.ceilDiv(cr, cl) * s + (long) cl * tape + STAGING_STATES * s;
    }

    private static String mib(final long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
    }
}
