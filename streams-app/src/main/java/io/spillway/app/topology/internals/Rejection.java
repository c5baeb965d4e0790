package io.spillway.app.topology.internals;

import io.spillway.app.topology.DeadLetterReason;
import java.util.Objects;

/**
 * Why a record was rejected.
 *
 * @param reason stable code
 * @param message description for humans
 */
public record Rejection(DeadLetterReason reason, String message) {
    public Rejection {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
    }
}
