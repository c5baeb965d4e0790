package io.spillway.schemas.registry.server.internals;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;

/**
 * Requires HTTP basic auth with one of the configured user/password pairs; answers 401 with
 * Confluent-style error JSON otherwise. Compares in constant time and never logs credentials.
 */
public final class BasicAuthFilter extends Filter {
    private final Map<String, byte[]> passwords;

    /** @param users user name to password; copied */
    public BasicAuthFilter(final Map<String, String> users) {
        this.passwords = users.entrySet().stream().collect(java.util.stream.Collectors.toUnmodifiableMap(
            Map.Entry::getKey, e -> e.getValue().getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void doFilter(final HttpExchange exchange, final Chain chain) throws IOException {
        if (authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
            chain.doFilter(exchange);
            return;
        }
        try (exchange) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"SchemaRegistry\", charset=\"UTF-8\"");
            Responses.error(exchange, 401, 401, "Unauthorized: valid basic auth credentials are required");
        }
    }

    private boolean authorized(final String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        final String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (final IllegalArgumentException e) {
            return false;
        }
        final int colon = decoded.indexOf(':');
        if (colon < 0) {
            return false;
        }
        final byte[] expected = passwords.get(decoded.substring(0, colon));
        final byte[] given = decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        // Compare even for unknown users so timing does not reveal which user names exist.
        return MessageDigest.isEqual(expected == null ? new byte[given.length + 1] : expected, given) && expected != null;
    }

    @Override
    public String description() {
        return "HTTP basic authentication";
    }
}
