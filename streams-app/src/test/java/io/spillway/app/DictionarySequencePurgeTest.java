package io.spillway.app;

import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

class DictionarySequencePurgeTest {
    /** Kafka Streams accepts {@code repartition.purge.interval.ms=0}; the purge must start with it too. */
    @Test
    void aZeroIntervalStartsThePurgeAtItsShortestInterval() {
        // no broker is needed: the admin client connects on its first request, which the purge makes later
        final Map<String, Object> client = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        assertThatCode(() -> {
            try (DictionarySequencePurge purge = new DictionarySequencePurge(client, "app", "app-dictionary-sequence",
                    Duration.ZERO)) {
                // constructed and scheduled: what threw before
            }
        }).doesNotThrowAnyException();
    }
}
