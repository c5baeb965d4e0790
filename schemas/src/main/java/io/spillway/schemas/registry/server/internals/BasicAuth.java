package io.spillway.schemas.registry.server.internals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks HTTP basic-auth headers against the configured user/password pairs. Compares in constant
 * time, and never logs, prints or returns a credential ({@link #toString()} names only the count).
 */
public final class BasicAuth {
    private final Map<String, byte[]> passwords;

    /** @param users user name to password; copied; empty means no authentication */
    public BasicAuth(final Map<String, String> users) {
        this.passwords = users.entrySet().stream().collect(Collectors.toUnmodifiableMap(
            Map.Entry::getKey, e -> e.getValue().getBytes(StandardCharsets.UTF_8)));
    }

    /** @return whether requests must authenticate */
    public boolean required() {
        return !passwords.isEmpty();
    }

    /**
     * @param header the request's Authorization header, may be null
     * @return whether it carries one of the configured user/password pairs (always true when none are configured)
     */
    public boolean allows(final String header) {
        if (passwords.isEmpty()) {
            return true;
        }
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
    public String toString() {
        return "BasicAuth[" + passwords.size() + " user(s)]";
    }
}
