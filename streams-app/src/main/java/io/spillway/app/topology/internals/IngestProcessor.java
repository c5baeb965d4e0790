package io.spillway.app.topology.internals;

import io.spillway.app.topology.AssembledChunk;
import io.spillway.app.topology.ChunkHandoff;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.DeadLetterReason;
import io.spillway.app.topology.PipelineCounters;
import io.spillway.app.topology.TopologySettings;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Validates raw input records, dead-letters bad ones (forwarded, unchanged plus reason headers, to the DLQ sink)
 * and appends good ones to the key's open chunk in the state stores; a chunk that reaches the chunk length, or
 * waits longer than the max wait (wall-clock punctuation), is handed to the trainer. Confined to its stream thread.
 */
public final class IngestProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    private final TopologySettings settings;
    private final Map<String, ?> serdeConfig;
    private final ChunkHandoff handoff;
    private final PipelineCounters counters;
    private final String metaStoreName;
    private final String eventStoreName;
    private final String dlqSinkName;
    private final EventValidator validator;
    private final StringSerializer prefixSerializer = new StringSerializer();
    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<String, byte[]> metas;
    private KeyValueStore<String, byte[]> events;
    private SpecificAvroDeserializer<Event> deserializer;

    public IngestProcessor(final TopologySettings settings, final Map<String, ?> serdeConfig, final ChunkHandoff handoff,
                           final PipelineCounters counters, final String metaStoreName, final String eventStoreName,
                           final String dlqSinkName) {
        this.settings = settings;
        this.serdeConfig = serdeConfig;
        this.handoff = handoff;
        this.counters = counters;
        this.metaStoreName = metaStoreName;
        this.eventStoreName = eventStoreName;
        this.dlqSinkName = dlqSinkName;
        this.validator = new EventValidator(settings);
    }

    @Override
    public void init(final ProcessorContext<byte[], byte[]> ctx) {
        this.context = ctx;
        this.metas = ctx.getStateStore(metaStoreName);
        this.events = ctx.getStateStore(eventStoreName);
        this.deserializer = new SpecificAvroDeserializer<>(Event.class);
        deserializer.configure(serdeConfig, false);
        final Duration interval = punctuationInterval(settings.maxWait());
        ctx.schedule(interval, PunctuationType.WALL_CLOCK_TIME, this::flushExpired);
    }

    static Duration punctuationInterval(final Duration maxWait) {
        final long quarter = Math.max(10, maxWait.toMillis() / 4);
        return Duration.ofMillis(Math.min(quarter, 1000));
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        counters.recordConsumed();
        final String key = decodeKey(record.key());
        if (key == null) {
            deadLetter(record, new Rejection(DeadLetterReason.MISSING_KEY,
                    "record key is missing, empty, not UTF-8 or contains NUL"));
            return;
        }
        if (record.value() == null) {
            deadLetter(record, new Rejection(DeadLetterReason.MISSING_VALUE, "record value is null"));
            return;
        }
        final Event event;
        try {
            event = deserializer.deserialize(topic(), record.value());
        } catch (final SerdeException e) {
            if (e.reason() == SerdeException.Reason.REGISTRY_UNAVAILABLE) {
                throw e; // transient: fail the task rather than dead-letter good data
            }
            deadLetter(record, new Rejection(map(e.reason()), e.getMessage()));
            return;
        }
        final Rejection invalid = validator.check(key, event);
        if (invalid != null) {
            deadLetter(record, invalid);
            return;
        }
        append(record, key, event);
    }

    private void append(final Record<byte[], byte[]> record, final String key, final Event event) {
        final byte[] metaBytes = metas.get(key);
        final OpenChunkCodec.Meta meta = metaBytes == null ? OpenChunkCodec.Meta.EMPTY : OpenChunkCodec.decodeMeta(metaBytes);
        if (event.getTimestampMs() < meta.lastTimestampMs()) {
            deadLetter(record, new Rejection(DeadLetterReason.OUT_OF_ORDER_TIMESTAMP, "timestampMs "
                    + event.getTimestampMs() + " is before the key's previous event at " + meta.lastTimestampMs()));
            return;
        }
        final SparseEvent sparse = EventValidator.toSparseEvent(event);
        events.put(OpenChunkCodec.eventKey(key, meta.count()), OpenChunkCodec.encodeEvent(event.getTimestampMs(), sparse));
        final long openedAt = meta.count() == 0 ? context.currentSystemTimeMs() : meta.openedAtMs();
        final OpenChunkCodec.Meta updated = new OpenChunkCodec.Meta(event.getTimestampMs(), meta.count() + 1, openedAt,
                meta.count() == 0 ? meta.lastTimestampMs() : meta.previousTimestampMs());
        if (updated.count() >= settings.chunkLength()) {
            emit(key, updated);
        } else {
            metas.put(key, OpenChunkCodec.encodeMeta(updated));
        }
    }

    private void flushExpired(final long now) {
        final long maxWait = settings.maxWait().toMillis();
        final List<KeyValue<String, OpenChunkCodec.Meta>> due = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = metas.all()) {
            while (it.hasNext()) {
                final KeyValue<String, byte[]> kv = it.next();
                final OpenChunkCodec.Meta meta = OpenChunkCodec.decodeMeta(kv.value);
                if (meta.count() > 0 && now - meta.openedAtMs() >= maxWait) {
                    due.add(KeyValue.pair(kv.key, meta));
                }
            }
        }
        for (final KeyValue<String, OpenChunkCodec.Meta> kv : due) {
            emit(kv.key, kv.value);
        }
    }

    private void emit(final String key, final OpenChunkCodec.Meta meta) {
        final List<SparseEvent> chunkEvents = new ArrayList<>(meta.count());
        final long[] timestamps = new long[meta.count()];
        final List<String> storeKeys = new ArrayList<>(meta.count());
        try (KeyValueIterator<String, byte[]> it = events.prefixScan(OpenChunkCodec.eventPrefix(key), prefixSerializer)) {
            while (it.hasNext()) {
                final KeyValue<String, byte[]> kv = it.next();
                final OpenChunkCodec.Buffered b = OpenChunkCodec.decodeEvent(kv.value);
                timestamps[chunkEvents.size()] = b.timestampMs();
                chunkEvents.add(b.event());
                storeKeys.add(kv.key);
            }
        }
        if (chunkEvents.size() != meta.count()) {
            throw new IllegalStateException("open chunk of key " + key + " holds " + chunkEvents.size()
                    + " events, bookkeeping says " + meta.count());
        }
        for (final String k : storeKeys) {
            events.delete(k);
        }
        metas.put(key, OpenChunkCodec.encodeMeta(new OpenChunkCodec.Meta(meta.lastTimestampMs(), 0, 0, meta.lastTimestampMs())));
        handoff.handOff(new AssembledChunk(new SequenceChunk(key, chunkEvents), timestamps, meta.previousTimestampMs()));
        counters.recordHandedOff(chunkEvents.size());
    }

    private void deadLetter(final Record<byte[], byte[]> record, final Rejection rejection) {
        final Headers headers = new RecordHeaders(record.headers().toArray());
        headers.add(DeadLetterHeaders.REASON, utf8(rejection.reason().name()));
        headers.add(DeadLetterHeaders.MESSAGE, utf8(rejection.message()));
        final RecordMetadata source = context.recordMetadata().orElse(null);
        if (source != null) {
            headers.add(DeadLetterHeaders.SOURCE_TOPIC, utf8(source.topic()));
            headers.add(DeadLetterHeaders.SOURCE_PARTITION, utf8(Integer.toString(source.partition())));
            headers.add(DeadLetterHeaders.SOURCE_OFFSET, utf8(Long.toString(source.offset())));
        }
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers), dlqSinkName);
        counters.recordDeadLettered(rejection.reason());
    }

    private String topic() {
        return context.recordMetadata().map(RecordMetadata::topic).orElse("events");
    }

    private static DeadLetterReason map(final SerdeException.Reason reason) {
        return switch (reason) {
            case UNKNOWN_SCHEMA_ID -> DeadLetterReason.UNKNOWN_SCHEMA_ID;
            case INCOMPATIBLE_SCHEMA -> DeadLetterReason.INCOMPATIBLE_SCHEMA;
            default -> DeadLetterReason.DESERIALIZATION_FAILED;
        };
    }

    private static String decodeKey(final byte[] key) {
        if (key == null || key.length == 0) {
            return null;
        }
        try {
            final String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key)).toString();
            return s.indexOf('\u0000') >= 0 ? null : s;
        } catch (final CharacterCodingException e) {
            return null;
        }
    }

    private static byte[] utf8(final String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (deserializer != null) {
            deserializer.close();
        }
    }
}
