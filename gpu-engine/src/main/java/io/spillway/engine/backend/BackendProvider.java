package io.spillway.engine.backend;

import io.spillway.engine.memory.MemoryAccountant;

/**
 * One compute backend as {@link Backends} finds it: a name to ask for, a preference for {@code auto}, and a way
 * to open it that says why it cannot run here. Implementations are listed in
 * {@code META-INF/services/io.spillway.engine.backend.BackendProvider} and found at run time with
 * {@link java.util.ServiceLoader} (the shape of Lucene's and jvector's vectorization providers), so a new backend
 * is a sub-package plus one line there, and nothing outside its sub-package names its classes.
 *
 * <p>Implementations need a public no-argument constructor, must be cheap to construct (no device is touched
 * before {@link #open}) and thread-safe.
 */
public interface BackendProvider {

    /** The name {@code --backend} asks for: lower-case, e.g. {@code cpu}, {@code cuda}; never {@code auto}. */
    String name();

    /**
     * Order for {@code auto}: higher is tried first, and the first that opens is used. The CPU reference backend,
     * which always opens, has the lowest preference.
     */
    int preference();

    /**
     * Opens the backend.
     *
     * @param accountant books the device bytes the backend allocates (matrices, product buffers); never null
     * @return a new backend; the caller owns it and must close it
     * @throws RuntimeException or {@link LinkageError} whose message says why it cannot run here (missing library,
     *     symbol or device)
     */
    ArrayBackend open(MemoryAccountant accountant);
}
