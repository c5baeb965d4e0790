package io.spillway.app.topology;

import java.util.Objects;

/**
 * Why an input record cannot be trained: a stable reason code (for dashboards, alerts and the
 * {@code spillway.dlq.reason} header) and a message for people.
 *
 * @param reason stable code, e.g. {@code wrong-magic-byte}
 * @param message what was wrong, naming the offending value
 */
public record Rejection(String reason, String message) {
    public Rejection {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
    }
}
