package io.spillway.engine.backend.cuda.internals;

/** No usable CUDA: a library, a symbol or a device is missing. The message says which. */
public final class CudaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(final String message) {
        super(message);
    }

    public CudaUnavailableException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
