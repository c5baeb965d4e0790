package io.spillway.app.topology;

import java.time.Duration;
import java.util.Objects;

/**
 * What protects the topology from hostile or unlucky input beyond a single event's validity ({@link EventLimits}).
 *
 * @param maxEventTimeAhead an event whose {@code timestampMs} is further ahead of its record's timestamp than this is
 *        dead-lettered ({@code timestamp-in-future}): one far-future event time would otherwise order every later
 *        event of its key out for good; a record timestamp further ahead of the wall clock is dead-lettered too
 * @param keyStateRetention a key with no chunk open whose last record is older than this on the input's clock
 *        (stream time) has its bookkeeping (last event time) deleted, so state does not grow with every key ever
 *        seen; its next event starts it afresh. {@link Duration#ZERO} keeps every key forever
 * @param maxWaitingForRegistryBytes records whose writer schema cannot be fetched while the registry is unreachable
 *        wait in a store (they and their key's later records, in order) up to this many bytes per task; past it they
 *        are dead-lettered as {@code registry-unavailable}
 * @param maxKeyBytes a record key (the entity id) longer than this is dead-lettered ({@code oversized-key}) before
 *        anything is decoded: an entity id is copied into every output record and store entry of its key, so a
 *        megabyte key would make records no topic or producer takes, and stop the trainer on every restart
 * @param deadLetterMaxBytes the dead-letter topic's record limit ({@code max.message.bytes}); a dead letter that
 *        would exceed it is sent with its value (and if need be its key) truncated, and headers saying so
 */
public record InputGuards(Duration maxEventTimeAhead, Duration keyStateRetention, long maxWaitingForRegistryBytes,
                          int maxKeyBytes, int deadLetterMaxBytes) {
    /** The default {@code maxKeyBytes}: far above any id, far below a record limit. */
    public static final int DEFAULT_MAX_KEY_BYTES = 16 << 10;
    /** Kafka's default {@code max.message.bytes} (1 MiB plus the batch overhead). */
    public static final int KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
    public static final InputGuards DEFAULTS = new InputGuards(Duration.ofDays(1), Duration.ofDays(7), 256L << 20,
            DEFAULT_MAX_KEY_BYTES, KAFKA_DEFAULT_MAX_MESSAGE_BYTES);

    public InputGuards {
        Objects.requireNonNull(maxEventTimeAhead, "maxEventTimeAhead");
        Objects.requireNonNull(keyStateRetention, "keyStateRetention");
        if (maxEventTimeAhead.isNegative() || keyStateRetention.isNegative() || maxWaitingForRegistryBytes < 0) {
            throw new IllegalArgumentException("input guards must not be negative: event time ahead "
                    + maxEventTimeAhead + ", key state retention " + keyStateRetention + ", registry wait bytes "
                    + maxWaitingForRegistryBytes);
        }
        if (maxKeyBytes <= 0) {
            throw new IllegalArgumentException("the key limit must be positive: " + maxKeyBytes);
        }
        if (deadLetterMaxBytes < DeadLetters.MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("dead-letter record limit " + deadLetterMaxBytes + " is below "
                    + DeadLetters.MIN_RECORD_BYTES + " bytes");
        }
    }

    /** The same guards for a dead-letter topic whose records may be {@code bytes} long. */
    public InputGuards withDeadLetterMaxBytes(final int bytes) {
        return new InputGuards(maxEventTimeAhead, keyStateRetention, maxWaitingForRegistryBytes, maxKeyBytes, bytes);
    }
}
