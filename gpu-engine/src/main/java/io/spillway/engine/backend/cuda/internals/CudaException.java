package io.spillway.engine.backend.cuda.internals;

/** A CUDA driver, NVRTC or cuBLAS call returned an error; the message names the call and the code. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;

    public CudaException(final String call, final int code, final String name) {
        super(call + " failed: " + name + " (" + code + ")");
        this.code = code;
    }

    public int code() {
        return code;
    }
}
