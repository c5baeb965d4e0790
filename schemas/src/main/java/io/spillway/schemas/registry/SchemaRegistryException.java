package io.spillway.schemas.registry;

/**
 * Base of every failure reported by a {@link SchemaRegistryClient} or the registry server.
 *
 * <p>Unchecked. Carries the HTTP status and the Confluent {@code error_code} of the failure when it
 * has one (for instance 404 / 40403 for an unknown schema id), or {@code -1} when the failure did not
 * come from (or map to) an HTTP answer.
 */
public class SchemaRegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int httpStatus;
    private final int errorCode;

    /**
     * @param message what went wrong, never containing credentials
     * @param httpStatus HTTP status of the failure, or -1
     * @param errorCode Confluent error code of the failure, or -1
     * @param cause underlying failure, may be null
     */
    public SchemaRegistryException(final String message, final int httpStatus, final int errorCode,
                                   final Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** @param message what went wrong */
    public SchemaRegistryException(final String message) {
        this(message, -1, -1, null);
    }

    /** @return HTTP status of the failure (e.g. 404), or -1 when not known */
    public int httpStatus() {
        return httpStatus;
    }

    /** @return Confluent error code (e.g. 40403), or -1 when not known */
    public int errorCode() {
        return errorCode;
    }
}
