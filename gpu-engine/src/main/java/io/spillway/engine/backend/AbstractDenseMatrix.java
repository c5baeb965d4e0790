package io.spillway.engine.backend;

/**
 * The shape and the open/closed life of a {@link DenseMatrix}, for backends to extend: {@link #close()} frees the
 * backend's memory once ({@link #release()}), and {@link #checkOpen()} refuses a closed matrix.
 */
public abstract class AbstractDenseMatrix implements DenseMatrix {
    private final int rows;
    private final int cols;
    private boolean closed;

    protected AbstractDenseMatrix(final int rows, final int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    /** @throws IllegalStateException if the matrix was closed */
    public final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("matrix was closed");
        }
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Frees the backend's memory; called once, by the first {@link #close()}. */
    protected abstract void release();

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + rows + "x" + cols + "]";
    }
}
