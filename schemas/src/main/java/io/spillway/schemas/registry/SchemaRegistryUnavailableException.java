package io.spillway.schemas.registry;

/**
 * The registry could not be reached or kept failing (connection errors, timeouts, HTTP 5xx) after
 * the client's bounded retries. The request may succeed later: callers retry rather than treat the
 * data as bad.
 */
public class SchemaRegistryUnavailableException extends SchemaRegistryException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message which registry, how many attempts, the last failure
     * @param httpStatus last HTTP status seen, or -1 when no answer came
     * @param cause last failure, may be null
     */
    public SchemaRegistryUnavailableException(final String message, final int httpStatus, final Throwable cause) {
        super(message, httpStatus, -1, cause);
    }
}
