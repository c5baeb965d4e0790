package io.spillway.app.topology;

import io.spillway.app.vocabulary.CategoryDictionary;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SerdeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntToLongFunction;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates each raw input record and appends valid events to its key's open chunk (a state store with a
 * changelog); a chunk of {@code chunkLength} events, or one left open longer than {@code maxWait}, is forwarded to
 * the chunk sink (the trainer's durable input, see {@link ChunkRecords}), in the same exactly-once transaction
 * that consumes its last input record and empties the store. A max-wait flush ends with a barrier, and so does an
 * input that goes quiet for {@code maxWait} with no chunk left open after one was handed over (the trainer then
 * trains the batch it has open instead of waiting for more of the log), unless more of the chunk log follows: the
 * task handed over a full chunk within the last max-wait, or a task feeding the same chunk-log partition is behind
 * its input. Anything that cannot be trained is forwarded, with its original key and value bytes, to the
 * dead-letter sink, with the reason and its source topic/partition/offset in headers.
 * Nothing is dropped silently. A task reading a {@link DictionarySequence} takes that position from the sequence
 * headers, its chunks name their records' input partition, and a barrier goes to each chunk-log partition that got
 * a chunk since its last (see {@link ChunkRouting}).
 */
final class ChunkingProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkingProcessor.class);
    /** A chunk is handed over after this many max-waits on the wall clock, even while catching up. */
    static final int CATCH_UP_CAP = 10;

    /** Idle-key sweeps look at this many stored metas at a time, so one sweep never holds up the stream thread. */
    static final int SWEEP_BATCH = 10_000;
    /** How often records waiting for the registry are retried. */
    static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);

    private final String storeName;
    private final String eventStoreName;
    private final String waitStoreName;
    private final String dlqSink;
    private final String chunkSink;
    private final ValueDecoder values;
    /** Each record's entity id is its key; else the mapping reads it from the value and the key may be absent. */
    private final boolean entityFromKey;
    private final KeyDecoder keys;
    /** Records whose key cannot be read before the registry answers wait under this name (no key has a NUL). */
    static final String KEY_UNKNOWN = "\u0000key-needs-the-registry";
    private final EventValidator validator;
    private final PipelineCounters counters;
    private final int chunkLength;
    private final Duration maxWait;
    private final InputGuards guards;
    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<String, byte[]> store;
    private KeyValueStore<String, byte[]> eventStore;
    private RegistryWaitQueue waiting;
    /** Where the next idle-key sweep continues in the meta store; null: from the start. */
    private String sweepFrom;
    /**
     * The open chunks, mirrored in memory: the hot path reads only this, and writes one event entry per event (the
     * stores are for restoring; a key's meta is written when its chunk is handed over). Holds open chunks only.
     */
    private final Map<String, Open> open = new HashMap<>();
    /** Wall-clock time this task last processed a record. */
    private long lastProcessedMs = -1;
    /**
     * The chunk-log partitions that got a chunk after their last barrier, each with the input partition its barrier
     * names (in memory: after a restart, at worst one extra barrier). A task reading its input partition has one.
     */
    private final java.util.SortedMap<Integer, Integer> barriersOwed = new java.util.TreeMap<>();
    /**
     * Input-clock time (record timestamp) at which this task last handed over a full chunk; in memory, so after a
     * restart the first flush writes its barrier.
     */
    private long lastFullChunkInputMs = Long.MIN_VALUE;
    /** Records of an input partition not fetched yet, -1 when unknown. */
    private final IntToLongFunction inputLag;
    /** The same over the input partitions feeding this task's chunk-log partition (see {@link SpillwayTopology}). */
    private final IntToLongFunction feedersLag;
    /** The dictionary vocabulary's store; null when the mapping has no dictionary. */
    private final String vocabularyStoreName;
    /** This task's dictionary (restored from its store in {@link #init}); null without one. */
    private CategoryDictionary dictionary;
    /** The record's metadata, or the sequence headers when this task reads the dictionary sequence. */
    private final InputPosition inputPosition;
    /** Whose partition chunks and barriers name, and how many chunk-log partitions they go to. */
    private final ChunkRouting routing;
    /** The input partitions of the open chunks, when chunks name them; null: they name this task's. */
    private OpenChunkPartitions openPartitions;

    ChunkingProcessor(final String storeName, final String eventStoreName, final String waitStoreName,
                      final String dlqSink, final String chunkSink,
                      final ValueDecoder values, final boolean entityFromKey, final KeyDecoder keys,
                      final EventValidator validator,
                      final PipelineCounters counters, final int chunkLength, final Duration maxWait,
                      final InputGuards guards, final IntToLongFunction inputLag, final IntToLongFunction feedersLag,
                      final String vocabularyStoreName, final InputPosition inputPosition,
                      final ChunkRouting routing) {
        this.vocabularyStoreName = vocabularyStoreName;
        this.inputPosition = inputPosition;
        this.routing = routing;
        this.inputLag = inputLag;
        this.feedersLag = feedersLag;
        this.storeName = storeName;
        this.eventStoreName = eventStoreName;
        this.waitStoreName = waitStoreName;
        this.guards = guards;
        this.dlqSink = dlqSink;
        this.chunkSink = chunkSink;
        this.values = values;
        this.entityFromKey = entityFromKey;
        this.keys = keys;
        this.validator = validator;
        this.counters = counters;
        this.chunkLength = chunkLength;
        this.maxWait = maxWait;
    }

    /**
     * A key's open chunk.
     *
     * @param previousTimestampMs event time of the key's event before the chunk, -1 if none
     * @param openedAtMs wall-clock time of the chunk's first event (of the restore, for a restored chunk)
     * @param openedAtInputMs record timestamp (the input's clock) of its first event; null for a restored chunk,
     *        which is judged by the wall clock alone
     * @param events its events, in order (the event store holds each under {@link OpenChunk#eventKey})
     */
    record Open(long previousTimestampMs, long openedAtMs, Long openedAtInputMs, List<OpenChunk.Buffered> events) {
        long lastTimestampMs() {
            return events.get(events.size() - 1).timestampMs();
        }
    }

    @Override
    public void init(final ProcessorContext<byte[], byte[]> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.eventStore = context.getStateStore(eventStoreName);
        try (KeyValueIterator<String, byte[]> events = eventStore.all()) {
            open.putAll(restore(events, key -> OpenChunk.decodeMeta(store.get(key)), context.currentSystemTimeMs()));
        }
        if (vocabularyStoreName != null) {
            final KeyValueStore<String, Integer> ids = context.getStateStore(vocabularyStoreName);
            final List<Map.Entry<String, Integer>> kept = new ArrayList<>();
            try (KeyValueIterator<String, Integer> all = ids.all()) {
                all.forEachRemaining(kv -> kept.add(Map.entry(kv.key, kv.value)));
            }
            dictionary = CategoryDictionary.restore(validator.limits().vocabularySize(), kept, ids::put);
            values.useCategories(dictionary);
            counters.vocabularyRestored(dictionary.size());
            LOG.info("Task {}: dictionary vocabulary of {} categories restored", context.taskId(), dictionary.size());
        }
        if (routing.openPartitionStore() != null) {
            openPartitions = OpenChunkPartitions.restore(context.getStateStore(routing.openPartitionStore()));
        }
        waiting = new RegistryWaitQueue(context.getStateStore(waitStoreName), guards.maxWaitingForRegistryBytes());
        // Restored waiting records count as consumed in this run, so consumed = accepted + dead-lettered + waiting.
        counters.countRestoredWaiting(waiting.size());
        final Duration every = maxWait.dividedBy(2).compareTo(Duration.ofMillis(100)) < 0
                ? Duration.ofMillis(100) : maxWait.dividedBy(2);
        context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::flushStale);
        context.schedule(REGISTRY_RETRY, PunctuationType.WALL_CLOCK_TIME, now -> resumeWaiting());
        if (!guards.keyStateRetention().isZero()) {
            final Duration sweep = guards.keyStateRetention().dividedBy(8);
            context.schedule(sweep.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
                    : sweep.compareTo(Duration.ofMinutes(10)) > 0 ? Duration.ofMinutes(10) : sweep,
                    PunctuationType.WALL_CLOCK_TIME, now -> sweepIdleKeys());
        }
    }

    @Override
    public void process(final Record<byte[], byte[]> record) {
        counters.countConsumed();
        lastProcessedMs = context.currentSystemTimeMs();
        handle(record, inputPosition.of(context, record), false);
    }

    /**
     * Validates and buffers one input record, or dead-letters it, or (when its writer schema cannot be fetched now,
     * or its key has records waiting) lets it wait for the registry.
     *
     * @param resumed the record is the head of the wait queue, retried
     * @return false when {@code resumed} and it must go on waiting (the registry is still unreachable)
     */
    private boolean handle(final Record<byte[], byte[]> record, final SourcePosition source, final boolean resumed) {
        final Long invalidTime = RecordTimeGuard.invalidTimestamp(record.headers());
        if (invalidTime != null) {
            deadLetter(record, source, new Rejection("invalid-record-timestamp", "record timestamp " + invalidTime
                    + (invalidTime < 0 ? " is negative" : " is more than " + guards.maxEventTimeAhead()
                    + " ahead of the wall clock")));
            return true;
        }
        if (record.key() != null && record.key().length > guards.maxKeyBytes()) {
            deadLetter(record, source, new Rejection("oversized-key", "record key of " + record.key().length
                    + " bytes exceeds " + guards.maxKeyBytes()));
            return true;
        }
        final KeyDecoder.Result decodedKey = keys.decode(source.topic(), record.headers(), record.key());
        if (decodedKey instanceof KeyDecoder.Refused refused) {
            deadLetter(record, source, refused.rejection());
            return true;
        }
        final boolean keyNeedsRegistry = decodedKey instanceof KeyDecoder.RegistryUnavailable;
        if (keyNeedsRegistry && resumed) {
            counters.countRegistryUnavailable();
            return false;
        }
        // a key whose schema the registry cannot give now waits under a name no real key has
        final String key = keyNeedsRegistry ? KEY_UNKNOWN : ((KeyDecoder.Decoded) decodedKey).key();
        if (record.value() == null) {
            deadLetter(record, source, new Rejection("null-value", "record has no value (tombstone) for key " + key));
            return true;
        }
        // before decoding: a value is not decoded in full only to be found too large
        final Optional<Rejection> oversized = validator.checkSize(record.value().length);
        if (oversized.isPresent()) {
            deadLetter(record, source, oversized.get());
            return true;
        }
        if (key == null && entityFromKey) {
            deadLetter(record, source, new Rejection("missing-key", "record has no key; the key must be the entity id"));
            return true;
        }
        // records whose entity id is in their value wait, when they must, under their key or a name no key has
        final String waitKey = key != null ? key : KEY_UNKNOWN;
        if (keyNeedsRegistry) {
            counters.countRegistryUnavailable();
            waitOrDeadLetter(waitKey, record, source, ((KeyDecoder.RegistryUnavailable) decodedKey).message());
            return true;
        }
        if (!resumed && waiting.holds(waitKey)) {
            waitForRegistry(waitKey, record, source);
            return true;
        }
        if (dictionary != null) {
            dictionary.discard(); // ids a record not accepted was given
        }
        final ValueDecoder.Result decoded = values.decode(source.topic(), record.headers(), key, record.timestamp(),
                record.value());
        if (decoded instanceof ValueDecoder.Refused refused) {
            deadLetter(record, source, refused.rejection());
            return true;
        }
        if (decoded instanceof ValueDecoder.RegistryUnavailable unavailable) {
            counters.countRegistryUnavailable();
            if (resumed) {
                return false;
            }
            waitOrDeadLetter(waitKey, record, source, unavailable.message());
            return true;
        }
        final Event event = ((ValueDecoder.Decoded) decoded).event();
        // a mapping that reads the entity id from the value makes it the key the events are chunked under
        accept(entityFromKey ? key : event.getEntityId().toString(), event, record, source);
        return true;
    }

    /** The record waits for the registry, unless the records waiting already fill their bound. */
    private void waitOrDeadLetter(final String key, final Record<byte[], byte[]> record, final SourcePosition source,
                                  final String why) {
        if (!waiting.fits(record)) {
            deadLetter(record, source, new Rejection("registry-unavailable", "the schema registry is unreachable"
                    + " and " + guards.maxWaitingForRegistryBytes() + " bytes of records already wait for it: " + why));
            return;
        }
        LOG.warn("Schema registry unavailable ({}); records of key {} wait for it", why,
                key.equals(KEY_UNKNOWN) ? "(not readable yet)" : key);
        waitForRegistry(key, record, source);
    }

    private void waitForRegistry(final String key, final Record<byte[], byte[]> record, final SourcePosition source) {
        waiting.add(key, record, source);
        counters.countWaiting(1);
    }

    /** Retries the records waiting for the registry, in order, until one must go on waiting. */
    private void resumeWaiting() {
        while (!waiting.isEmpty()) {
            final RegistryWaitQueue.Waiting head = waiting.head();
            if (!handle(head.record(), head.source(), true)) {
                return;
            }
            waiting.removeHead();
            counters.countWaiting(-1);
        }
    }

    /** Checks a decoded event and appends it to its key's open chunk. */
    private void accept(final String key, final Event event, final Record<byte[], byte[]> record,
                        final SourcePosition source) {
        final Optional<Rejection> invalid = validator.check(key, event);
        if (invalid.isPresent()) {
            deadLetter(record, source, invalid.get());
            return;
        }
        if (event.getTimestampMs() - record.timestamp() > guards.maxEventTimeAhead().toMillis()) {
            deadLetter(record, source, new Rejection("timestamp-in-future", "timestampMs " + event.getTimestampMs()
                    + " is more than " + guards.maxEventTimeAhead() + " ahead of its record's timestamp "
                    + record.timestamp()));
            return;
        }
        Open chunk = open.get(key);
        // a key with no chunk open: its last event time is in its meta (one store read per chunk, not per event)
        final long lastTimestampMs = chunk != null ? chunk.lastTimestampMs()
                : OpenChunk.decodeMeta(store.get(key)).lastTimestampMs();
        if (event.getTimestampMs() < lastTimestampMs) {
            deadLetter(record, source, new Rejection("timestamp-out-of-order", "timestampMs " + event.getTimestampMs()
                    + " is before the key's previous event at " + lastTimestampMs));
            return;
        }
        if (chunk == null) {
            chunk = new Open(lastTimestampMs, context.currentSystemTimeMs(), record.timestamp(), new ArrayList<>());
            open.put(key, chunk);
            if (openPartitions != null) {
                openPartitions.opened(key, source.partition());
            }
        }
        if (dictionary != null) {
            // accepted: the record's new categories keep their ids (the store's changelog commits with this chunk)
            counters.countVocabulary(dictionary.commit(), dictionary.size());
        }
        final long offset = source.offset();
        final OpenChunk.Buffered buffered = new OpenChunk.Buffered(event.getTimestampMs(), offset, SparseEvents.of(event));
        eventStore.put(OpenChunk.eventKey(key, chunk.events().size()), OpenChunk.encodeEvent(buffered));
        chunk.events().add(buffered);
        counters.countAccepted();
        if (chunk.events().size() >= chunkLength) {
            handOff(key, chunk);
            lastFullChunkInputMs = record.timestamp();
        }
    }

    /**
     * The open chunks the stores hold (after a restart, or a task moving here): each key's events from the event
     * store, in order, and its previous event time from its meta. A meta written by an earlier version, per event,
     * counts the open chunk's events; one written at hand-off counts none and its last event time is the previous.
     *
     * @param events the event store's entries, in key order
     * @param metas each key's stored meta
     * @param nowMs the wall clock now: restored chunks count as opened now
     */
    static Map<String, Open> restore(final Iterator<KeyValue<String, byte[]>> events,
                                     final Function<String, OpenChunk.Meta> metas, final long nowMs) {
        final Map<String, Open> restored = new HashMap<>();
        while (events.hasNext()) {
            final KeyValue<String, byte[]> kv = events.next();
            final int separator = kv.key.lastIndexOf('\u0000');
            final String key = kv.key.substring(0, separator);
            final int position = Integer.parseInt(kv.key.substring(separator + 1));
            Open chunk = restored.get(key);
            if (chunk == null) {
                final OpenChunk.Meta meta = metas.apply(key);
                chunk = new Open(meta.size() > 0 ? meta.previousTimestampMs() : meta.lastTimestampMs(), nowMs, null,
                        new ArrayList<>());
                restored.put(key, chunk);
            }
            if (position != chunk.events().size()) {
                throw new IllegalStateException("open chunk of key " + key + " has an event at position " + position
                        + " after " + chunk.events().size() + " events");
            }
            chunk.events().add(OpenChunk.decodeEvent(kv.value));
        }
        return restored;
    }

    /**
     * Deletes the bookkeeping of keys idle longer than the retention on the input's clock (stream time), a batch of
     * stored metas per call; keys with a chunk open or records waiting are kept. A meta written by an earlier
     * version has no record time: it gets the current one, and so expires one retention from now.
     */
    private void sweepIdleKeys() {
        final long streamTimeMs = context.currentStreamTimeMs();
        if (streamTimeMs < 0) {
            return;
        }
        final long retentionMs = guards.keyStateRetention().toMillis();
        final List<String> expired = new ArrayList<>();
        final Map<String, OpenChunk.Meta> stamped = new HashMap<>();
        String last = null;
        int seen = 0;
        try (KeyValueIterator<String, byte[]> metas = sweepFrom == null ? store.all() : store.range(sweepFrom, null)) {
            while (metas.hasNext() && seen < SWEEP_BATCH) {
                final KeyValue<String, byte[]> kv = metas.next();
                seen++;
                last = kv.key;
                if (open.containsKey(kv.key) || waiting.holds(kv.key)) {
                    continue;
                }
                final OpenChunk.Meta meta = OpenChunk.decodeMeta(kv.value);
                if (meta.lastRecordMs() < 0) {
                    stamped.put(kv.key, OpenChunk.Meta.handedOver(meta.lastTimestampMs(), streamTimeMs));
                } else if (streamTimeMs - meta.lastRecordMs() > retentionMs) {
                    expired.add(kv.key);
                }
            }
            // a batch that ended the store starts the next sweep from the beginning
            sweepFrom = metas.hasNext() ? last + '\u0000' : null;
        }
        stamped.forEach((k, m) -> store.put(k, OpenChunk.encodeMeta(m)));
        for (final String key : expired) {
            store.delete(key);
        }
        if (!expired.isEmpty()) {
            counters.countKeysExpired(expired.size());
            LOG.debug("Deleted the state of {} keys idle for more than {}", expired.size(), guards.keyStateRetention());
        }
    }

    /**
     * Hands over the chunks open for {@code maxWait}: on the wall clock, and on the input's clock (record
     * timestamps; this task's stream time, advanced by the wall clock while no record comes). Live, the two
     * agree. While the task catches up on a backlog they do not: a key's next events are already in the
     * input, written moments after its chunk's first one, so the chunk waits for them instead of being cut
     * short by how long processing the backlog takes (short chunks, and the barrier after them, shrink the
     * trainer's batches). A chunk open for {@link #CATCH_UP_CAP} times {@code maxWait} on the wall clock is
     * handed over whatever the record timestamps say.
     */
    private void flushStale(final long nowMs) {
        final long wait = maxWait.toMillis();
        // A task behind its input is not quiet: a pause in processing it (the stream thread busy elsewhere, or
        // starved of CPU) must not move its input clock, or chunks would be cut short mid-backlog. (The task of a
        // dictionary sequence is its partition 0, and its lag is all the input still to come: SpillwayTopology.)
        final boolean behind = inputLag.applyAsLong(context.taskId().partition()) > 0;
        final long inputNowMs = context.currentStreamTimeMs() + (behind ? 0 : Math.max(0, nowMs - lastProcessedMs));
        final boolean anyOpen = !open.isEmpty();
        final List<String> stale = new ArrayList<>();
        for (final Map.Entry<String, Open> e : open.entrySet()) {
            final Open chunk = e.getValue();
            if (nowMs - chunk.openedAtMs() < wait) {
                continue;
            }
            final Long openedAtInput = chunk.openedAtInputMs();
            if (openedAtInput == null || lastProcessedMs < 0 || inputNowMs - openedAtInput >= wait
                    || nowMs - chunk.openedAtMs() >= CATCH_UP_CAP * wait) {
                stale.add(e.getKey());
            }
        }
        for (final String key : stale) {
            handOff(key, open.get(key));
        }
        // Quiet input with every key's events handed over: no flush will write a barrier, so write one here. (With
        // a chunk open, its flush does; a starved stream thread's gaps in processing are not taken for quiet.)
        // More of this chunk-log partition follows while a task feeding it is behind its input (one partition of
        // several reaching the end of a backlog first), or while this task still hands over full chunks (a key
        // going quiet mid-stream, a document ending, is not the input going quiet): the trainer's batches close on
        // the chunks that follow, and a barrier would only cut them short (after a barrier a step can take a key's
        // chunk only once that key's chunks before the barrier are trained, one per step).
        final boolean logFed = behind || feedersLag.applyAsLong(context.taskId().partition()) > 0
                || lastFullChunkInputMs != Long.MIN_VALUE && inputNowMs - lastFullChunkInputMs < wait;
        final boolean quiet = !barriersOwed.isEmpty() && !anyOpen && !logFed && lastProcessedMs >= 0
                && nowMs - lastProcessedMs >= wait;
        if ((!stale.isEmpty() && !logFed) || quiet) {
            // The flush (or the quiet input) is a wall-clock decision; the barrier records it in the log, so that
            // the trainer's batches stay a function of the log alone.
            for (final int partition : barriersOwed.values()) {
                context.forward(new Record<byte[], byte[]>(null, ChunkRecords.barrier(partition), nowMs), chunkSink);
            }
            barriersOwed.clear();
        }
    }

    /** Hands the key's open chunk to the chunk sink and takes its events out of the stores. */
    private void handOff(final String key, final Open chunk) {
        final List<OpenChunk.Buffered> buffered = chunk.events();
        final List<SparseEvent> events = new ArrayList<>(buffered.size());
        final long[] timestamps = new long[buffered.size()];
        final long[] offsets = new long[buffered.size()];
        for (int i = 0; i < timestamps.length; i++) {
            final OpenChunk.Buffered b = buffered.get(i);
            timestamps[i] = b.timestampMs();
            offsets[i] = b.sourceOffset();
            events.add(b.event());
        }
        final int partition = openPartitions == null ? context.taskId().partition() : openPartitions.handedOver(key);
        final TimedChunk handedOver = new TimedChunk(new SequenceChunk(key, events), timestamps,
                chunk.previousTimestampMs(), partition, offsets);
        context.forward(new Record<>(ChunkRecords.key(handedOver), ChunkRecords.encode(handedOver),
                context.currentStreamTimeMs()), chunkSink);
        barriersOwed.putIfAbsent(partition % routing.chunkLogPartitions(), partition);
        // The chunk record, these deletes, the meta and the input offsets commit in one transaction (exactly_once_v2).
        for (int i = 0; i < timestamps.length; i++) {
            eventStore.delete(OpenChunk.eventKey(key, i));
        }
        final long last = chunk.lastTimestampMs();
        store.put(key, OpenChunk.encodeMeta(OpenChunk.Meta.handedOver(last, context.currentStreamTimeMs())));
        open.remove(key);
    }

    private void deadLetter(final Record<byte[], byte[]> record, final SourcePosition source,
                            final Rejection rejection) {
        final Record<byte[], byte[]> letter = DeadLetters.of(record, rejection, source, guards.deadLetterMaxBytes());
        context.forward(letter, dlqSink);
        if (DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED) != null) {
            counters.countDeadLettersTruncated();
        }
        counters.countDeadLettered(rejection.reason());
        LOG.debug("Dead-lettered a record: {} ({})", rejection.reason(), rejection.message());
    }

    /** {@code WRONG_MAGIC_BYTE} becomes {@code wrong-magic-byte}. */
    static String code(final SerdeException.Reason reason) {
        return reason.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

}
