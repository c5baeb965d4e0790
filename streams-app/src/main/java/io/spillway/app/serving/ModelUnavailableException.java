package io.spillway.app.serving;

/** No model version is served yet (the snapshot and deltas are still being read, or the broker is unreachable). */
public final class ModelUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ModelUnavailableException(final String message) {
        super(message);
    }
}
