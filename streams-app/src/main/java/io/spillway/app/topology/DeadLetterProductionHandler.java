package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last line behind {@link DeadLetters}' sizing: a dead letter the producer still refuses as too large (a
 * dead-letter topic whose limit shrank after start-up) is replaced by one without key and value, carrying the
 * reason, the source position and the original sizes, instead of failing the task on the same input record on
 * every restart. Scoped to the dead-letter topic: any other failed send fails as by default.
 */
public final class DeadLetterProductionHandler implements ProductionExceptionHandler {
    /** Configuration key naming the dead-letter topic. */
    public static final String DEAD_LETTER_TOPIC_CONFIG = "spillway.dead.letter.topic";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProductionHandler.class);
    private String deadLetterTopic;

    @Override
    public void configure(final Map<String, ?> configs) {
        final Object topic = configs.get(DEAD_LETTER_TOPIC_CONFIG);
        if (topic == null) {
            throw new IllegalArgumentException(DEAD_LETTER_TOPIC_CONFIG + " is not set");
        }
        deadLetterTopic = topic.toString();
    }

    @Override
    public Response handleError(final ErrorHandlerContext context, final ProducerRecord<byte[], byte[]> record,
                                final Exception exception) {
        if (!deadLetterTopic.equals(record.topic()) || !(exception instanceof RecordTooLargeException)) {
            return Response.fail();
        }
        LOG.error("A dead letter of {} bytes did not fit {} ({}); sending it without key and value",
                length(record.value()), deadLetterTopic, exception.getMessage());
        final RecordHeaders headers = new RecordHeaders();
        for (final var h : record.headers()) {
            if (h.key().startsWith(DeadLetterHeaders.PREFIX)) {
                headers.add(h);
            }
        }
        DeadLetterHeaders.put(headers, DeadLetterHeaders.TRUNCATED, "true");
        // sizes already there (the dead letter was truncated before) are the originals'
        putIfAbsent(headers, DeadLetterHeaders.ORIGINAL_KEY_BYTES, length(record.key()));
        putIfAbsent(headers, DeadLetterHeaders.ORIGINAL_VALUE_BYTES, length(record.value()));
        return Response.resume(List.of(new ProducerRecord<>(deadLetterTopic, null, record.timestamp(), null,
                new byte[0], headers)));
    }

    private static void putIfAbsent(final RecordHeaders headers, final String name, final int value) {
        if (headers.lastHeader(name) == null) {
            headers.add(name, Integer.toString(value).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static int length(final byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }
}
