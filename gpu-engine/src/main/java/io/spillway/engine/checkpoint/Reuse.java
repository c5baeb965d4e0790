package io.spillway.engine.checkpoint;

/**
 * How much of the first forward pass a checkpointed schedule keeps instead of recomputing
 * (docs/spec-double-checkpointing.md §2.2, §2.5). Gradients are identical for every level; only forward evaluations,
 * remote reads and peaks differ.
 */
public enum Reuse {
    /** Every segment is recomputed: F = 2T (uniform, remote) or 3T (double). */
    NONE,
    /** The last (sub-)segment's tapes are recorded when it is first computed: 2T - C_last; 3T - sum of last sub-segments. */
    TAIL,
    /**
     * As {@link #TAIL}, and double checkpointing's first pass also builds the local checkpoints of the last
     * remote segment, which is then neither read back nor recomputed in pass 2: 3T - T C_l/C_r - C_r when the
     * intervals divide, one remote read fewer. For the single-level schedules it equals {@link #TAIL}.
     */
    FULL
}
