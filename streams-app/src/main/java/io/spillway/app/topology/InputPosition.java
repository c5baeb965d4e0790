package io.spillway.app.topology;

import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/** Where the chunking processor takes a record's input position from (see {@link SourcePosition}). */
@FunctionalInterface
interface InputPosition {
    SourcePosition of(ProcessorContext<?, ?> context, Record<byte[], byte[]> record);

    /** The record's own metadata: the chunking task reads the input topic itself. */
    InputPosition RECORD_METADATA = (context, record) -> context.recordMetadata()
            .map(m -> new SourcePosition(m.topic(), m.partition(), m.offset()))
            .orElse(new SourcePosition("", context.taskId().partition(), -1));

    /**
     * The headers the sequencer wrote (taken off the record): the chunking task reads the
     * {@link DictionarySequence} topic. A record there without them names its position in that topic.
     */
    InputPosition SEQUENCE_HEADERS = (context, record) -> DictionarySequence.take(record.headers())
            .orElseGet(() -> RECORD_METADATA.of(context, record));
}
