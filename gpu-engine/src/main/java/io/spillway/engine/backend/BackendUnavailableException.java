package io.spillway.engine.backend;

/** Thrown when a backend was asked for by name and cannot run on this machine. */
public final class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(final String message) {
        super(message);
    }
}
