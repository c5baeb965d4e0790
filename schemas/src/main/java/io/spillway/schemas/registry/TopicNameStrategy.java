package io.spillway.schemas.registry;

import java.util.Objects;

/** Confluent's default subject naming: {@code <topic>-value} for values, {@code <topic>-key} for keys. */
public final class TopicNameStrategy {
    private TopicNameStrategy() {
    }

    /**
     * @param topic Kafka topic, not null
     * @param isKey whether the schema describes record keys
     * @return the subject name
     */
    public static String subject(final String topic, final boolean isKey) {
        Objects.requireNonNull(topic, "topic");
        return topic + (isKey ? "-key" : "-value");
    }

    /** @param topic Kafka topic @return {@code topic + "-value"} */
    public static String valueSubject(final String topic) {
        return subject(topic, false);
    }

    /** @param topic Kafka topic @return {@code topic + "-key"} */
    public static String keySubject(final String topic) {
        return subject(topic, true);
    }
}
