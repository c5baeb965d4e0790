package io.spillway.engine.model;

import java.util.Objects;

/**
 * The inputs and targets of one training window of a batch, addressed by step: what a {@link CellWindow}
 * re-reads on every (re)computation, so inputs are never checkpointed. Element {@code b} is active for
 * steps {@code t < length(b)}; after that it passes its state through unchanged and has no loss, which is
 * how chunks of different lengths share a batch.
 *
 * <p>Immutable after construction; the arrays are owned by this object.
 */
public final class WindowInputs {
    private final int batch;
    private final int steps;
    private final int[] lengths;
    private final int[][] rows;
    private final float[][] scales;
    private final int[] targets;
    private final int targetCount;

    /**
     * @param lengths active steps per element
     * @param rows layer-0 input rows per {@code t * batch + b} (event type row, then {@code vocab + feature})
     * @param scales the value of each input row
     * @param targets target class per {@code t * batch + b}, or -1 for no loss at that step
     */
    public WindowInputs(final int[] lengths, final int[][] rows, final float[][] scales, final int[] targets) {
        this.batch = lengths.length;
        int max = 0;
        for (final int len : lengths) {
            if (len < 0) {
                throw new IllegalArgumentException("negative length");
            }
            max = Math.max(max, len);
        }
        this.steps = max;
        if (rows.length != batch * steps || scales.length != batch * steps || targets.length != batch * steps) {
            throw new IllegalArgumentException("inputs must have batch * steps = " + batch * steps + " entries");
        }
        int count = 0;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                final int i = t * batch + b;
                if (t < lengths[b]) {
                    Objects.requireNonNull(rows[i], "rows");
                    if (scales[i].length != rows[i].length) {
                        throw new IllegalArgumentException("rows and scales differ in length at " + i);
                    }
                    if (targets[i] >= 0) {
                        count++;
                    }
                }
            }
        }
        this.lengths = lengths;
        this.rows = rows;
        this.scales = scales;
        this.targets = targets;
        this.targetCount = count;
    }

    public int batch() {
        return batch;
    }

    /** Window length: the longest element. */
    public int steps() {
        return steps;
    }

    public int length(final int b) {
        return lengths[b];
    }

    public boolean active(final int t, final int b) {
        return t < lengths[b];
    }

    /** Layer-0 input rows of element {@code b} at step {@code t} (only for active steps). */
    public int[] rows(final int t, final int b) {
        return rows[t * batch + b];
    }

    /** The value of each of {@link #rows}. */
    public float[] scales(final int t, final int b) {
        return scales[t * batch + b];
    }

    /** Target class of element {@code b} at step {@code t}, or -1. */
    public int target(final int t, final int b) {
        return t < lengths[b] ? targets[t * batch + b] : -1;
    }

    /** Steps with a target, over the whole batch. */
    public int targetCount() {
        return targetCount;
    }
}
