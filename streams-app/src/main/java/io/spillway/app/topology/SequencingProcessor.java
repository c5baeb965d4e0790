package io.spillway.app.topology;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The first sub-topology of a dictionary mapping on an input of several partitions: forwards every input record
 * unchanged to the one-partition {@link DictionarySequence} topic, with its input position in headers. One key's
 * records come from one input partition, hence one task, in order: they stay in order in the sequence.
 */
final class SequencingProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    private ProcessorContext<byte[], byte[]> context;

    @Override
    public void init(final ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        final RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        DictionarySequence.stamp(headers, InputPosition.RECORD_METADATA.of(context, record));
        context.forward(record.withHeaders(headers));
    }
}
