package io.spillway.app.topology;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The input partition of each open chunk of a task that reads a {@link DictionarySequence}: its chunk is written as
 * that partition's, so that the chunk log keeps one partition per input partition in split training. Kept in a
 * state store (written when a chunk opens, deleted when it is handed over, in the transaction of its events), so a
 * restored chunk keeps it; a chunk with none (opened before the input had several partitions) is partition 0's.
 */
final class OpenChunkPartitions {
    private final KeyValueStore<String, Integer> store;
    private final Map<String, Integer> partitions = new HashMap<>();

    private OpenChunkPartitions(final KeyValueStore<String, Integer> store) {
        this.store = store;
    }

    static OpenChunkPartitions restore(final KeyValueStore<String, Integer> store) {
        final OpenChunkPartitions restored = new OpenChunkPartitions(store);
        try (KeyValueIterator<String, Integer> all = store.all()) {
            all.forEachRemaining(kv -> restored.partitions.put(kv.key, kv.value));
        }
        return restored;
    }

    /** The key's chunk opened with a record of {@code partition}. */
    void opened(final String key, final int partition) {
        partitions.put(key, partition);
        store.put(key, partition);
    }

    /** The key's chunk is handed over: its partition, forgotten. */
    int handedOver(final String key) {
        final Integer partition = partitions.remove(key);
        if (partition != null) {
            store.delete(key);
        }
        return partition == null ? 0 : partition;
    }
}
