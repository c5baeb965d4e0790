package io.spillway.engine.optim.internals;

import io.spillway.engine.InvalidStateException;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/** A dense window: m rows of d fp32 values (m * d * 4 bytes). */
public final class DenseWindow implements GradientWindow {
    private final float[][] rows;
    private final int dimension;

    public DenseWindow(final int slots, final int dimension) {
        this.rows = new float[slots][dimension];
        this.dimension = dimension;
    }

    /** Copies {@code row} into {@code slot}. */
    public void write(final int slot, final float[] row) {
        System.arraycopy(row, 0, rows[slot], 0, dimension);
    }

    /** The stored row (for tests). */
    public float[] row(final int slot) {
        return rows[slot];
    }

    @Override
    public int slots() {
        return rows.length;
    }

    @Override
    public long bytes() {
        return (long) rows.length * dimension * Float.BYTES;
    }

    @Override
    public void dots(final double[] x, final double[] out) {
        for (int r = 0; r < rows.length; r++) {
            final float[] row = rows[r];
            double s = 0;
            for (int j = 0; j < dimension; j++) {
                if (row[j] != 0f) {
                    s += row[j] * x[j];
                }
            }
            out[r] = s;
        }
    }

    @Override
    public void addCombination(final double[] alpha, final double[] acc) {
        for (int r = 0; r < rows.length; r++) {
            final double a = alpha[r];
            if (a == 0) {
                continue;
            }
            final float[] row = rows[r];
            for (int j = 0; j < dimension; j++) {
                if (row[j] != 0f) {
                    acc[j] += a * row[j];
                }
            }
        }
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        for (final float[] row : rows) {
            for (final float v : row) {
                out.writeFloat(v);
            }
        }
    }

    /** Restores what {@link #writeState} wrote; a value that is not finite is an {@link InvalidStateException}. */
    @Override
    public void readState(final DataInput in) throws IOException {
        for (int r = 0; r < rows.length; r++) {
            final float[] row = rows[r];
            for (int j = 0; j < dimension; j++) {
                row[j] = in.readFloat();
            }
            for (int j = 0; j < dimension; j++) {
                if (!Float.isFinite(row[j])) {
                    throw new InvalidStateException("M-FAC window row " + r + " value [" + j + "] is not finite: "
                            + row[j]);
                }
            }
        }
    }
}
