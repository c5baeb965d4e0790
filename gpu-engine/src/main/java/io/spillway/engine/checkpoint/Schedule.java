package io.spillway.engine.checkpoint;

/**
 * A checkpoint schedule for back-propagation through a window of T steps (docs/spec-double-checkpointing.md §2).
 * Each kind has closed-form costs ({@link #forwardEvaluations}, {@link #peakLocalSlots},
 * {@link #remoteWrites}) that the executor's counters reproduce exactly.
 */
public sealed interface Schedule {

    /** Short form for logs and metrics, e.g. {@code double(Cr=256,Cl=16)}. */
    String describe();

    /**
     * Forward-step evaluations over a window of {@code steps}: the first pass plus every recomputation.
     *
     * @param tailReuse whether the last (sub-)segment's tapes are recorded when it is first computed
     */
    long forwardEvaluations(int steps, boolean tailReuse);

    /**
     * Forward-step evaluations under a {@link Reuse} level; {@link Reuse#FULL} differs from {@link Reuse#TAIL}
     * only for double checkpointing, whose last remote segment is then not recomputed in pass 2.
     */
    default long forwardEvaluations(final int steps, final Reuse reuse) {
        final long f = forwardEvaluations(steps, reuse != Reuse.NONE);
        if (reuse == Reuse.FULL && this instanceof DoubleCheckpoint d) {
            return f - lastLength(steps, d.remoteInterval());
        }
        return f;
    }

    /** Remote checkpoints read back: one per write, less the segment whose tapes or checkpoints were kept. */
    default int remoteReads(final int steps, final Reuse reuse) {
        final int writes = remoteWrites(steps);
        final boolean keepsLast = this instanceof Remote ? reuse != Reuse.NONE
                : this instanceof DoubleCheckpoint && reuse == Reuse.FULL;
        return writes == 0 ? 0 : writes - (keepsLast ? 1 : 0);
    }

    /** Most local checkpoints plus tapes alive at once (not counting the rolling and staging states). */
    int peakLocalSlots(int steps);

    /** Checkpoints written to (and read back from) off-chip memory. */
    int remoteWrites(int steps);

    /** Full BPTT: every tape kept on the device. */
    record Bptt() implements Schedule {
        @Override
        public String describe() {
            return "bptt";
        }

        @Override
        public long forwardEvaluations(final int steps, final boolean tailReuse) {
            return steps;
        }

        @Override
        public int peakLocalSlots(final int steps) {
            return steps;
        }

        @Override
        public int remoteWrites(final int steps) {
            return 0;
        }
    }

    /** Standard checkpointing: every {@code interval}-th state kept locally, segments recomputed with tapes. */
    record Uniform(int interval) implements Schedule {
        public Uniform {
            positive("interval", interval);
        }

        @Override
        public String describe() {
            return "uniform(C=" + interval + ")";
        }

        @Override
        public long forwardEvaluations(final int steps, final boolean tailReuse) {
            return 2L * steps - (tailReuse ? lastLength(steps, interval) : 0);
        }

        @Override
        public int peakLocalSlots(final int steps) {
            return peakSlots(steps, interval);
        }

        @Override
        public int remoteWrites(final int steps) {
            return 0;
        }
    }

    /** Remote checkpointing: every {@code interval}-th state spilled off-chip, segments recomputed with tapes. */
    record Remote(int interval) implements Schedule {
        public Remote {
            positive("interval", interval);
        }

        @Override
        public String describe() {
            return "remote(C=" + interval + ")";
        }

        @Override
        public long forwardEvaluations(final int steps, final boolean tailReuse) {
            return 2L * steps - (tailReuse ? lastLength(steps, interval) : 0);
        }

        @Override
        public int peakLocalSlots(final int steps) {
            return Math.min(interval, steps);
        }

        @Override
        public int remoteWrites(final int steps) {
            return ceilDiv(steps, interval);
        }
    }

    /**
     * Double checkpointing: every {@code remoteInterval}-th state off-chip; while a remote segment is
     * recomputed, every {@code localInterval}-th state is kept locally; sub-segments are recomputed with tapes.
     */
    record DoubleCheckpoint(int remoteInterval, int localInterval) implements Schedule {
        public DoubleCheckpoint {
            positive("remoteInterval", remoteInterval);
            positive("localInterval", localInterval);
            if (localInterval > remoteInterval) {
                throw new IllegalArgumentException("local interval " + localInterval + " exceeds remote interval "
                        + remoteInterval);
            }
        }

        @Override
        public String describe() {
            return "double(Cr=" + remoteInterval + ",Cl=" + localInterval + ")";
        }

        @Override
        public long forwardEvaluations(final int steps, final boolean tailReuse) {
            long f = 3L * steps;
            if (tailReuse) {
                for (int a = 0; a < steps; a += remoteInterval) {
                    f -= lastLength(Math.min(remoteInterval, steps - a), localInterval);
                }
            }
            return f;
        }

        @Override
        public int peakLocalSlots(final int steps) {
            return peakSlots(Math.min(remoteInterval, steps), localInterval);
        }

        @Override
        public int remoteWrites(final int steps) {
            return ceilDiv(steps, remoteInterval);
        }
    }

    /**
     * Live checkpoints plus tapes at the peak when {@code length} steps are covered by checkpoints every
     * {@code interval} and recomputed last segment first, each checkpoint dropped once its segment is done:
     * {@code max(K + last, K - 1 + C)}. The spec's {@code K + C} (P6) is this bound, reached when C divides
     * the length; a shorter last segment lowers the peak by one.
     */
    static int peakSlots(final int length, final int interval) {
        final int k = ceilDiv(length, interval);
        return Math.max(k + lastLength(length, interval), k - 1 + Math.min(interval, length));
    }

    /** Length of the last of the segments of {@code interval} steps that cover {@code steps}. */
    static int lastLength(final int steps, final int interval) {
        final int r = steps % interval;
        return steps == 0 ? 0 : r == 0 ? interval : r;
    }

    static int ceilDiv(final int a, final int b) {
        return (int) (((long) a + b - 1) / b); // long: windows near Integer.MAX_VALUE steps must not wrap
    }

    private static void positive(final String name, final int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0: " + v);
        }
    }
}
