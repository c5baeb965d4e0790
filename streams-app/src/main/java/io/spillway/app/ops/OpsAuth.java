package io.spillway.app.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read the operations endpoint's data ({@code /metrics}, {@code /api/history}, the dashboard): anyone
 * ({@link #none()}, the loopback default; {@link #unauthenticatedAllowed()}, open beyond loopback by the operator's
 * explicit choice), or a client that presents a shared token ({@link #token}): {@code Authorization: Bearer <token>},
 * or HTTP basic authentication with any user name and the token as the password (what a browser can send for the
 * dashboard). {@code /health} and {@code /ready} are always open, for probes.
 *
 * <p>The token never appears in {@link #toString()}; it is compared in constant time. Immutable and thread-safe.
 */
public final class OpsAuth {
    /** Shortest token accepted: shorter ones can be guessed. */
    public static final int MIN_TOKEN_LENGTH = 16;
    private static final Logger LOG = LoggerFactory.getLogger(OpsAuth.class);
    private static final OpsAuth NONE = new OpsAuth(null, false);
    private static final OpsAuth OPEN = new OpsAuth(null, true);

    private final byte[] token;
    private final boolean openByChoice;

    private OpsAuth(final byte[] token, final boolean openByChoice) {
        this.token = token;
        this.openByChoice = openByChoice;
    }

    /** No authentication; the endpoint refuses to start bound beyond loopback. */
    public static OpsAuth none() {
        return NONE;
    }

    /** No authentication, also beyond loopback: the operator chose an open endpoint. */
    public static OpsAuth unauthenticatedAllowed() {
        return OPEN;
    }

    /**
     * Requires {@code token}.
     *
     * @throws IllegalArgumentException when it is shorter than {@link #MIN_TOKEN_LENGTH} or holds anything but
     *         visible ASCII (no spaces: it travels in a header)
     */
    public static OpsAuth token(final String token) {
        if (token == null || token.length() < MIN_TOKEN_LENGTH) {
            throw new IllegalArgumentException("the operations endpoint's token must have at least " + MIN_TOKEN_LENGTH
                    + " characters");
        }
        for (int i = 0; i < token.length(); i++) {
            final char c = token.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("the operations endpoint's token may hold only visible ASCII"
                        + " characters (no spaces), found one at index " + i);
            }
        }
        return new OpsAuth(token.getBytes(StandardCharsets.US_ASCII), false);
    }

    /**
     * Requires the token held in {@code file} (surrounding white space, such as a final newline, is ignored). Warns
     * when others than the file's owner may read it.
     */
    public static OpsAuth tokenFile(final Path file) throws IOException {
        final String content = Files.readString(file, StandardCharsets.UTF_8).strip();
        try {
            final Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                LOG.warn("The operations endpoint's token file {} is readable by others than its owner (chmod 600 it)",
                        file);
            }
        } catch (final UnsupportedOperationException notPosix) {
            // nothing to check on this file system
        }
        try {
            return token(content);
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Whether a request must authenticate to read the endpoint's data. */
    public boolean required() {
        return token != null;
    }

    /** Whether the operator allowed an open endpoint beyond loopback. */
    public boolean openByChoice() {
        return openByChoice;
    }

    /** Whether a request with this {@code Authorization} header (null when absent) may read the data. */
    public boolean permits(final String authorization) {
        if (token == null) {
            return true;
        }
        if (authorization == null) {
            return false;
        }
        final String value = authorization.strip();
        if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return matches(value.substring(7).strip().getBytes(StandardCharsets.UTF_8));
        }
        if (value.regionMatches(true, 0, "Basic ", 0, 6)) {
            final byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(value.substring(6).strip());
            } catch (final IllegalArgumentException notBase64) {
                return false;
            }
            final String pair = new String(decoded, StandardCharsets.UTF_8);
            final int colon = pair.indexOf(':');
            return colon >= 0 && matches(pair.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
        }
        return false;
    }

    private boolean matches(final byte[] presented) {
        return MessageDigest.isEqual(token, presented);
    }

    @Override
    public String toString() {
        return token != null ? "OpsAuth[token]" : openByChoice ? "OpsAuth[open by choice]" : "OpsAuth[none]";
    }
}
