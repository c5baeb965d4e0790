package io.spillway.engine.backend;

import java.util.Arrays;

/**
 * The rows of a weight matrix that a step's batch elements use (a unit that emitted, a unit whose adjoint is
 * needed), grouped by row: for each row in increasing order, the elements that use it in increasing order, each
 * with a factor. A sparse product over a batch walks it row by row, so a row several elements use is read from
 * memory once per step instead of once per element; per output element the rows still add in increasing order,
 * the same sum as {@link ArrayBackend#gatherRows} element by element.
 *
 * <p>Built in two passes per step: {@link #count} every element's row list, {@link #layout}, then {@link #add}
 * the same lists in increasing element order. Reused across steps; not thread-safe.
 */
public final class SharedRows {
    private final int rows;
    private final int[] start;
    private final int[] cursor;
    private int[] element;
    private float[] scale;
    private boolean laidOut;

    /** @param rows rows of the matrix; {@code capacity} a first guess at the uses per step (it grows) */
    public SharedRows(final int rows, final int capacity) {
        this.rows = rows;
        this.start = new int[rows + 1];
        this.cursor = new int[rows];
        this.element = new int[Math.max(1, capacity)];
        this.scale = new float[element.length];
    }

    /** Forgets the previous step. */
    public void clear() {
        Arrays.fill(start, 0);
        laidOut = false;
    }

    /** First pass: element will use {@code ids[0 .. count)} (rows, each at most once per element). */
    public void count(final int[] ids, final int count) {
        if (laidOut) {
            throw new IllegalStateException("count after layout: clear first");
        }
        for (int k = 0; k < count; k++) {
            start[ids[k] + 1]++;
        }
    }

    /** Between the passes: places each row's uses. */
    public void layout() {
        for (int r = 0; r < rows; r++) {
            start[r + 1] += start[r];
        }
        System.arraycopy(start, 0, cursor, 0, rows);
        final int total = start[rows];
        if (total > element.length) {
            element = new int[Math.max(total, 2 * element.length)];
            scale = new float[element.length];
        }
        laidOut = true;
    }

    /**
     * Second pass, in increasing {@code e}: element {@code e} uses rows {@code ids[0 .. count)}, row {@code i}
     * with factor {@code values[valuesOffset + i]}, or 1 when {@code values} is null.
     */
    public void add(final int e, final int[] ids, final int count, final float[] values, final int valuesOffset) {
        for (int k = 0; k < count; k++) {
            final int i = ids[k];
            final int at = cursor[i]++;
            element[at] = e;
            scale[at] = values == null ? 1f : values[valuesOffset + i];
        }
    }

    public int rows() {
        return rows;
    }

    /** Uses of row {@code r} are {@code [from(r), from(r + 1))}. */
    public int from(final int r) {
        return start[r];
    }

    public int element(final int use) {
        return element[use];
    }

    public float scale(final int use) {
        return scale[use];
    }

    /** All uses, once laid out. */
    public int size() {
        return start[rows];
    }
}
