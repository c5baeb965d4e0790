package io.spillway.engine.backend;

/**
 * A read-only dense matrix made by {@link ArrayBackend#upload}; on a GPU it lives in device memory. Valid until
 * {@link #close()} or until its backend is closed; only the backend that made it may use it.
 */
public interface DenseMatrix extends AutoCloseable {

    int rows();

    int cols();

    /** Frees the matrix's memory; closing twice is a no-op. */
    @Override
    void close();
}
