package io.spillway.schemas.registry.server.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP answer of the registry: status, content type and body, written by the transport.
 *
 * @param status HTTP status
 * @param contentType media type of the body
 * @param body the body bytes (may be empty)
 */
public record Answer(int status, String contentType, byte[] body) {
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    static final ObjectMapper JSON = new ObjectMapper();

    /** @return a JSON answer in Confluent's media type */
    static Answer json(final int status, final Object body) {
        try {
            return new Answer(status, CONTENT_TYPE, JSON.writeValueAsBytes(body));
        } catch (final JsonProcessingException e) {
            throw new IllegalStateException("cannot encode an answer", e);
        }
    }

    /** @return a raw text answer */
    static Answer text(final int status, final String contentType, final String body) {
        return new Answer(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** @return Confluent's error JSON {@code {"error_code":..,"message":..}} */
    static Answer error(final int status, final int errorCode, final String message) {
        final Map<String, Object> body = new LinkedHashMap<>();
        body.put("error_code", errorCode);
        body.put("message", message);
        return json(status, body);
    }
}
