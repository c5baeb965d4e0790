package io.spillway.schemas.registry.server.internals;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Answers the errors Jetty finds itself (a malformed request line, headers too large, an ambiguous
 * path, 505 for an HTTP version other than 1.x) with Confluent's JSON error body instead of an HTML
 * page. A server fault (500) says only "internal error": its details are in the log.
 */
public final class JsonErrorHandler extends ErrorHandler {
    /** Every method gets the JSON body, not only GET and POST (Jetty's default). */
    @Override
    public boolean errorPageForMethod(final String method) {
        return true;
    }

    @Override
    protected void generateResponse(final Request request, final Response response, final int code,
                                    final String message, final Throwable cause, final Callback callback) {
        final Answer answer = answerFor(code, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, answer.contentType());
        // Jetty closes the connection after the errors it finds in a request (an ambiguous path, a bad request
        // line); said in the response, a client does not send its next request on that connection and lose it
        // (the JDK's HttpClient then fails with "header parser received no bytes")
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        response.write(true, ByteBuffer.wrap(answer.body()), callback);
    }

    private static Answer answerFor(final int status, final String message) {
        if (status == 500) {
            return Answer.error(status, 50001, "internal error (see the registry's log)");
        }
        return Answer.error(status, status, "HTTP " + status + ": " + RegistryApi.abbreviate(
            message == null || message.isBlank() ? "bad request" : message));
    }
}
