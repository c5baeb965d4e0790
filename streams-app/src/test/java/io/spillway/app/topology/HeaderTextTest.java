package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Headers read as text ({@link DeadLetterHeaders#get}), as a hostile producer may send them. */
class HeaderTextTest {
    @Test
    void theLastHeaderCountsAndAMissingOrValuelessOneIsNull() {
        final RecordHeaders headers = new RecordHeaders();
        assertThat(DeadLetterHeaders.get(headers, "h")).isNull();
        headers.add(new RecordHeader("h", (byte[]) null));
        assertThat(DeadLetterHeaders.get(headers, "h")).as("a header with no value").isNull();
        headers.add("h", "première".getBytes(StandardCharsets.UTF_8));
        headers.add("h", "zweite".getBytes(StandardCharsets.UTF_8));
        assertThat(DeadLetterHeaders.get(headers, "h")).isEqualTo("zweite");
    }

    @Test
    void aSequencePositionWithAValuelessHeaderIsNotOneTheSequencerWrote() {
        final RecordHeaders headers = new RecordHeaders();
        headers.add(DictionarySequence.SOURCE_TOPIC, "events".getBytes(StandardCharsets.UTF_8));
        headers.add(new RecordHeader(DictionarySequence.SOURCE_PARTITION, (byte[]) null));
        headers.add(DictionarySequence.SOURCE_OFFSET, "12".getBytes(StandardCharsets.UTF_8));
        assertThat(DictionarySequence.take(headers)).isEmpty();
        assertThat(headers.toArray()).as("the sequence's headers are taken off all the same").isEmpty();
    }
}
