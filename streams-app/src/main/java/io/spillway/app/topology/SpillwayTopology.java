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
import org.apache.kafka.streams.processor.UsePartitionTimeOnInvalidTimestamp;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the app's topology: {@code events} (raw bytes) -> validate and chunk per key (persistent store
 * with changelog) -> the internal chunk topic the trainer reads; bad records -> {@code events-dlq} with the reason in headers.
 * Records are read as bytes so that even undecodable ones reach the dead-letter topic intact. A dictionary mapping
 * on an input of several partitions puts a first sub-topology in front: the input into one partition of
 * {@link DictionarySequence}, which one task chunks (the dictionary's one writer).
 */
public final class SpillwayTopology {
    public static final String SOURCE = "events-source";
    public static final String CHUNKER = "validate-and-chunk";
    /** A dictionary on an input of several partitions: the input into its one-partition sequence (see below). */
    public static final String SEQUENCER = "dictionary-sequencer";
    public static final String SEQUENCE_SINK = "dictionary-sequence-sink";
    public static final String SEQUENCE_SOURCE = "dictionary-sequence-source";
    public static final String DLQ_SINK = "events-dlq-sink";
    public static final String CHUNK_SINK = "training-chunks-sink";
    /** Per-key bookkeeping of the open chunks (last event time, size, opening time). */
    public static final String STORE = "open-chunks";
    /** The buffered events of the open chunks, one entry per event. */
    public static final String EVENT_STORE = "open-chunk-events";
    /** With a dictionary sequence: the input partition of each open chunk (see {@link OpenChunkPartitions}). */
    public static final String OPEN_PARTITION_STORE = "open-chunk-partitions";
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
        return build(topics, deserializers, keys, values, limits, counters, chunkLength, maxWait, guards, inputLag,
                feedersLag, null, 1);
    }

    /**
     * @param dictionarySequence the one-partition {@link DictionarySequence} topic the input goes through to the
     *        chunking task, or null to chunk the input where it is read: a dictionary needs one writer, so a
     *        dictionary mapping on an input of several partitions has one. The chunking task is then the sequence
     *        topic's partition 0, and {@code inputLag} and {@code feedersLag} are asked for 0: they answer for all
     *        the input still to come (the input's lag and the sequence's). Its chunks name their records' input
     *        partitions, so split training still gets one chunk-log partition per input partition
     * @param chunkLogPartitions the chunk log's partitions (with a dictionary sequence, a flush writes a barrier to
     *        each that got a chunk since its last)
     */
    public static Topology build(final Topics topics, final Supplier<SpecificAvroDeserializer<Event>> deserializers,
                                 final KeyFormats keys, final ValueFormats values, final EventLimits limits,
                                 final PipelineCounters counters, final int chunkLength, final Duration maxWait,
                                 final InputGuards guards, final IntToLongFunction inputLag,
                                 final IntToLongFunction feedersLag, final String dictionarySequence,
                                 final int chunkLogPartitions) {
        if (chunkLength <= 0) {
            throw new IllegalArgumentException("chunkLength must be > 0: " + chunkLength);
        }
        final EventValidator validator = new EventValidator(limits);
        final boolean dictionary = values.mapping() != null && values.mapping().usesDictionary();
        final Topology topology = new Topology();
        // no reset policy of its own (null): the consumer's applies
        topology.addSource((org.apache.kafka.streams.AutoOffsetReset) null, SOURCE, new RecordTimeGuard(guards.maxEventTimeAhead().toMillis(), System::currentTimeMillis),
                new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.events());
        final String chunkerInput = dictionarySequence == null ? SOURCE : addSequence(topology, dictionarySequence);
        final InputPosition position = dictionarySequence == null ? InputPosition.RECORD_METADATA
                : InputPosition.SEQUENCE_HEADERS;
        final ChunkRouting routing = dictionarySequence == null ? ChunkRouting.TASK_PARTITION
                : new ChunkRouting(OPEN_PARTITION_STORE, chunkLogPartitions);
        topology.addProcessor(CHUNKER, () -> new ChunkingProcessor(STORE, EVENT_STORE, WAIT_STORE, DLQ_SINK,
                CHUNK_SINK, values.decoder(deserializers.get(), limits), values.entityFromKey(), keys.decoder(), validator, counters, chunkLength, maxWait, guards, inputLag,
                feedersLag, dictionary ? VocabularyTopic.STORE : null, position, routing), chunkerInput);
        if (dictionarySequence != null) {
            // Cached, as the open chunks' stores: a chunk opened and handed over within one commit leaves nothing.
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(OPEN_PARTITION_STORE),
                    Serdes.String(), Serdes.Integer()).withCachingEnabled(), CHUNKER);
        }
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
        // one per input partition in split training (each trainer then sees its keys' chunks in order). The task of
        // a dictionary sequence names each chunk's input partition as the sequence headers gave it.
        topology.addSink(CHUNK_SINK, topics.chunks(), new ByteArraySerializer(), new ByteArraySerializer(),
                (topic, key, value, partitions) -> Optional.of(Set.of(ChunkRecords.sourcePartition(value) % partitions)),
                CHUNKER);
        return topology;
    }

    /**
     * The input's records, each with its input position in headers, into the one-partition sequence topic, and that
     * topic's source: the chunking task's input.
     *
     * @return the name of the sequence topic's source
     */
    private static String addSequence(final Topology topology, final String sequenceTopic) {
        topology.addProcessor(SEQUENCER, SequencingProcessor::new, SOURCE);
        topology.addSink(SEQUENCE_SINK, sequenceTopic, new ByteArraySerializer(), new ByteArraySerializer(),
                (topic, key, value, partitions) -> Optional.of(Set.of(0)), SEQUENCER);
        // Earliest: what the sequencer wrote before this source's first commit is input all the same. The
        // timestamps are the input's as the time guard let them through (an invalid one already replaced, the
        // original in a header the guard of this source would remove), so they pass as they are.
        topology.addSource(org.apache.kafka.streams.AutoOffsetReset.earliest(), SEQUENCE_SOURCE,
                new UsePartitionTimeOnInvalidTimestamp(), new ByteArrayDeserializer(), new ByteArrayDeserializer(),
                sequenceTopic);
        return SEQUENCE_SOURCE;
    }
}
