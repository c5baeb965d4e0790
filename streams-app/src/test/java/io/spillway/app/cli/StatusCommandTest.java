package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The dead-letter lines of {@code status} say what was counted, and when the count is only a lower bound. */
class StatusCommandTest {
    @Test
    void aMissingTopicIsNotAZeroCount() {
        assertThat(printed(new DeadLetterTopicReader.Count("events-dlq", false, 0, Map.of(), true, -1, null)))
                .isEqualTo("dead letters   none (no topic events-dlq)\n");
    }

    @Test
    void aTopicReadOnlyPartlyGivesALowerBound() {
        final Map<String, Long> reasons = new TreeMap<>(Map.of("wrong-magic-byte", 900L, "invalid-key", 100L));
        assertThat(printed(new DeadLetterTopicReader.Count("events-dlq", true, 1000, reasons, false, 0, "invalid-key")))
                .isEqualTo("dead letters   at least 1000 on events-dlq (invalid-key 100, wrong-magic-byte 900), stopped "
                        + "reading after 60 s\nnewest dead letter  invalid-key, record time 1970-01-01T00:00:00Z\n");
    }

    private static String printed(final DeadLetterTopicReader.Count count) {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StatusCommand.print(count, null, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
