package io.spillway.app.topology;

import io.spillway.app.vocabulary.VocabularyTopic;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the app's topology: {@code events} (raw bytes) -> validate and chunk per key (persistent store
 * with changelog) -> the internal chunk topic the trainer reads; bad records -> {@code events-dlq} with the reason in headers.
 * Records are read as bytes so that even undecodable ones reach the dead-letter topic intact.
 */
public final class SpillwayTopology {
    public static final String SOURCE = "events-source";
    public static final String CHUNKER = "validate-and-chunk";
    public static final String DLQ_SINK = "events-dlq-sink";
    public static final String CHUNK_SINK = "training-chunks-sink";
    /** Per-key bookkeeping of the open chunks (last event time, size, opening time). */
    public static final String STORE = "open-chunks";
    /** The buffered events of the open chunks, one entry per event. */
    public static final String EVENT_STORE = "open-chunk-events";
    /** Input records waiting for the schema registry, in arrival order (see {@link RegistryWaitQueue}). */
    public static final String WAIT_STORE = "registry-wait";

    private SpillwayTopology() {
    }

    /**
     * @param deserializers makes one configured Event deserializer per stream task
     * @param chunkLength events per chunk handed to the trainer
     * @param maxWait a chunk open longer than this is handed over even if short (slow keys still train)
     */
    public static Topology build(final Topics topics, final Supplier<SpecificAvroDeserializer<Event>> deserializers,
                                 final EventLimits limits, final PipelineCounters counters,
                                 final int chunkLength, final Duration maxWait) {
        return build(topics, deserializers, KeyFormats.TEXT, limits, counters, chunkLength, maxWait,
                InputGuards.DEFAULTS, partition -> -1, partition -> -1);
    }

    /** The topology with each partition's own lag standing for its chunk-log partition's feeders (see below). */
    public static Topology build(final Topics topics, final Supplier<SpecificAvroDeserializer<Event>> deserializers,
                                 final EventLimits limits, final PipelineCounters counters,
                                 final int chunkLength, final Duration maxWait,
                                 final IntToLongFunction inputLag) {
        return build(topics, deserializers, KeyFormats.TEXT, limits, counters, chunkLength, maxWait,
                InputGuards.DEFAULTS, inputLag, inputLag);
    }

    /**
     * @param keys how record keys become entity ids
     * @param guards bounds on event time, idle keys' state, records waiting for the registry, dead-letter sizes
     * @param inputLag records of an input partition not fetched yet, -1 when unknown: while a task is behind its
     *        input, a pause in processing it (a busy stream thread) does not count as quiet input for max-wait flushes
     * @param feedersLag records not fetched yet (-1 when unknown) of the input partitions, among this instance's,
     *        whose chunks go to the same chunk-log partition as the given input partition's: while any of them is
     *        behind, more of that log follows, so a task there writes no barrier even when its own input has ended
     */
    public static Topology build(final Topics topics, final Supplier<SpecificAvroDeserializer<Event>> deserializers,
                                 final KeyFormats keys, final EventLimits limits, final PipelineCounters counters,
                                 final int chunkLength, final Duration maxWait, final InputGuards guards,
                                 final IntToLongFunction inputLag, final IntToLongFunction feedersLag) {
        return build(topics, deserializers, keys, ValueFormats.EVENT, limits, counters, chunkLength, maxWait, guards,
                inputLag, feedersLag);
    }

    /**
     * @param values how record values become events: Spillway's Event, or the user's own records through a mapping
     */
    public static Topology build(final Topics topics, final Supplier<SpecificAvroDeserializer<Event>> deserializers,
                                 final KeyFormats keys, final ValueFormats values, final EventLimits limits,
                                 final PipelineCounters counters, final int chunkLength, final Duration maxWait,
                                 final InputGuards guards, final IntToLongFunction inputLag,
                                 final IntToLongFunction feedersLag) {
        if (chunkLength <= 0) {
            throw new IllegalArgumentException("chunkLength must be > 0: " + chunkLength);
        }
        final EventValidator validator = new EventValidator(limits);
        final boolean dictionary = values.mapping() != null && values.mapping().usesDictionary();
        final Topology topology = new Topology();
        // no reset policy of its own (null): the consumer's applies
        topology.addSource((org.apache.kafka.streams.AutoOffsetReset) null, SOURCE, new RecordTimeGuard(guards.maxEventTimeAhead().toMillis(), System::currentTimeMillis),
                new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.events());
        topology.addProcessor(CHUNKER, () -> new ChunkingProcessor(STORE, EVENT_STORE, WAIT_STORE, DLQ_SINK,
                CHUNK_SINK, values.decoder(deserializers.get(), limits), values.entityFromKey(), keys.decoder(), validator, counters, chunkLength, maxWait, guards, inputLag,
                feedersLag, dictionary ? VocabularyTopic.STORE : null), SOURCE);
        if (dictionary) {
            // Not cached: a new category is rare, and its id reaches the published changelog at the next commit,
            // in the transaction of the chunk that first uses it.
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(VocabularyTopic.STORE),
                    Serdes.String(), Serdes.Integer()), CHUNKER);
        }
        // Cached: a key's buffered events are deleted at hand-off (and its meta written then); the cache sends
        // nothing for events written and deleted within one commit to the changelog.
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                Serdes.ByteArray()).withCachingEnabled(), CHUNKER);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EVENT_STORE),
                Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), CHUNKER);
        // Not cached: a record waits for the registry only while it is unreachable, rarely and briefly.
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WAIT_STORE),
                Serdes.String(), Serdes.ByteArray()), CHUNKER);
        topology.addSink(DLQ_SINK, topics.deadLetters(), new ByteArraySerializer(), new ByteArraySerializer(), CHUNKER);
        // A chunk goes to the chunk-log partition of its input partition: one partition in replicated training,
        // one per input partition in split training (each trainer then sees its keys' chunks in order).
        topology.addSink(CHUNK_SINK, topics.chunks(), new ByteArraySerializer(), new ByteArraySerializer(),
                (topic, key, value, partitions) -> Optional.of(Set.of(ChunkRecords.sourcePartition(value) % partitions)),
                CHUNKER);
        return topology;
    }
}
