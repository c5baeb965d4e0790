package io.spillway.engine.backend.cpu;

import io.spillway.engine.backend.AbstractDenseMatrix;

/** Heap copy of a matrix, with a lazily made ND4J view for the BLAS path. */
final class CpuMatrix extends AbstractDenseMatrix {
    final float[] data;
    private Object blasView;
    private Object blasTransposed;

    CpuMatrix(final float[] data, final int rows, final int cols) {
        super(rows, cols);
        this.data = data;
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

    @Override
    protected void release() {
        blasView = null;
        blasTransposed = null;
    }
}
