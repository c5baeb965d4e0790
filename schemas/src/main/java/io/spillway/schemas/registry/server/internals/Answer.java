package io.spillway.schemas.registry.server.internals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes JSON and error answers the way Confluent's registry does. */
final class Responses {
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    static final ObjectMapper JSON = new ObjectMapper();

    private Responses() {
    }

    static void json(final HttpExchange exchange, final int status, final Object body) throws IOException {
        send(exchange, status, CONTENT_TYPE, JSON.writeValueAsBytes(body));
    }

    static void text(final HttpExchange exchange, final int status, final String contentType, final String body)
        throws IOException {
        send(exchange, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    static void error(final HttpExchange exchange, final int status, final int errorCode, final String message)
        throws IOException {
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("error_code", errorCode);
        body.put("message", message);
        json(exchange, status, body);
    }

    private static void send(final HttpExchange exchange, final int status, final String contentType,
                             final byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
