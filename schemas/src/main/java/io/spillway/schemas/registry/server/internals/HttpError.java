package io.spillway.schemas.registry.server.internals;

/** A request failure answered with Confluent's error JSON. Internal to the server. */
final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final int errorCode;

    HttpError(final int status, final int errorCode, final String message) {
        super(message, null, false, false);
        this.status = status;
        this.errorCode = errorCode;
    }

    static HttpError notFound(final String path) {
        return new HttpError(404, 404, "HTTP 404 Not Found: " + path);
    }

    static HttpError methodNotAllowed(final String method, final String path) {
        return new HttpError(405, 405, "HTTP 405 Method Not Allowed: " + method + " " + path);
    }
}
