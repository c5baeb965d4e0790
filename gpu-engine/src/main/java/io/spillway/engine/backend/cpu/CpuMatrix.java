package io.spillway.engine.backend.cpu;

import io.spillway.engine.backend.DenseMatrix;

/** Heap copy of a matrix, with a lazily made ND4J view for the BLAS path. */
final class CpuMatrix implements DenseMatrix {
    final float[] data;
    private final int rows;
    private final int cols;
    private Object blasView;
    private Object blasTransposed;
    private boolean closed;

    CpuMatrix(final float[] data, final int rows, final int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    Object blasView() {
        return blasView;
    }

    void blasView(final Object view) {
        this.blasView = view;
    }

    Object blasTransposed() {
        return blasTransposed;
    }

    void blasTransposed(final Object view) {
        this.blasTransposed = view;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("matrix was closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        blasView = null;
        blasTransposed = null;
    }

    @Override
    public String toString() {
        return "CpuMatrix[" + rows + "x" + cols + "]";
    }
}
