package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The one-partition topic {@code <application-id>-dictionary-sequence} through which a dictionary mapping's input
 * of several partitions reaches its one chunking task, the dictionary's only writer (docs/input-formats.md): each
 * record as it came (key, value, timestamp, headers) plus three headers naming where it came from, so that its
 * dead letter and its events name the input position, not the sequence topic's.
 */
public final class DictionarySequence {
    /** Every header the sequencer writes starts with this; a producer's own headers of that name are replaced. */
    public static final String PREFIX = "spillway.sequence.";
    /** The input topic (UTF-8). */
    public static final String SOURCE_TOPIC = PREFIX + "source.topic";
    /** The input partition (decimal text). */
    public static final String SOURCE_PARTITION = PREFIX + "source.partition";
    /** The input offset (decimal text). */
    public static final String SOURCE_OFFSET = PREFIX + "source.offset";

    private DictionarySequence() {
    }

    /** The sequence topic of an application. */
    public static String topic(final String applicationId) {
        return applicationId + "-dictionary-sequence";
    }

    /** Names the record's input position, replacing any header of these names it had (a producer cannot forge it). */
    static void stamp(final Headers headers, final SourcePosition source) {
        removeOurs(headers);
        headers.add(SOURCE_TOPIC, source.topic().getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE_PARTITION, Integer.toString(source.partition()).getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE_OFFSET, Long.toString(source.offset()).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Takes the input position off the record's headers, so that the record goes on with the headers it came with.
     *
     * @return empty when they are missing or malformed (a record the sequencer did not write)
     */
    static Optional<SourcePosition> take(final Headers headers) {
        final String topic = DeadLetterHeaders.get(headers, SOURCE_TOPIC);
        final String partition = DeadLetterHeaders.get(headers, SOURCE_PARTITION);
        final String offset = DeadLetterHeaders.get(headers, SOURCE_OFFSET);
        removeOurs(headers);
        if (topic == null || partition == null || offset == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new SourcePosition(topic, Integer.parseInt(partition), Long.parseLong(offset)));
        } catch (final NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void removeOurs(final Headers headers) {
        for (final Header h : headers.toArray()) {
            if (h.key().startsWith(PREFIX)) {
                headers.remove(h.key());
            }
        }
    }

}
