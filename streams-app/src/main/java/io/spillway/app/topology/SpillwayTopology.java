package io.spillway.app.topology;

import io.spillway.app.topology.internals.IngestProcessor;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the Spillway topology: {@code events} (raw bytes) -> validate -> bad records to the dead-letter topic
 * (original key, value and headers, plus {@link DeadLetterHeaders}) -> per-key sequence assembly in two logged
 * key-value stores -> completed chunks to a {@link ChunkHandoff}.
 *
 * <p>A key's open chunk is handed over when it reaches {@link TopologySettings#chunkLength()} events, or when its
 * first event is older than {@link TopologySettings#maxWait()} (checked by wall-clock punctuation).
 */
public final class SpillwayTopology {
    /** Name of the store with per-key bookkeeping (last timestamp, open chunk size). */
    public static final String META_STORE = "spillway-open-chunk-meta";
    /** Name of the store with the buffered events of open chunks. */
    public static final String EVENT_STORE = "spillway-open-chunk-events";
    private static final String SOURCE = "events-source";
    private static final String INGEST = "ingest";
    private static final String DLQ_SINK = "dlq-sink";

    private SpillwayTopology() {
    }

    /**
     * @param topics topic names; not null
     * @param settings validation and chunking settings; not null
     * @param serdeConfig configuration of the Avro deserializer ({@code schema.registry.url}, ...); not null
     * @param handoff receives completed chunks on the stream threads; not null
     * @param counters updated as records are consumed, dead-lettered and handed off; not null
     * @return a new topology
     */
    public static Topology build(final TopicNames topics, final TopologySettings settings,
                                 final Map<String, ?> serdeConfig, final ChunkHandoff handoff,
                                 final PipelineCounters counters) {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(serdeConfig, "serdeConfig");
        Objects.requireNonNull(handoff, "handoff");
        Objects.requireNonNull(counters, "counters");
        final Map<String, ?> serde = Map.copyOf(serdeConfig);
        final Topology topology = new Topology();
        topology.addSource(SOURCE, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), topics.events());
        topology.addProcessor(INGEST, () -> new IngestProcessor(settings, serde, handoff, counters, META_STORE,
                EVENT_STORE, DLQ_SINK), SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(META_STORE),
                Serdes.String(), Serdes.ByteArray()), INGEST);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EVENT_STORE),
                Serdes.String(), Serdes.ByteArray()), INGEST);
        topology.addSink(DLQ_SINK, topics.deadLetters(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), INGEST);
        return topology;
    }
}
