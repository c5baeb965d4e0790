package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/** The open chunks' input partitions survive a restore from their store, and a handed-over chunk's are gone. */
class OpenChunkPartitionsTest {
    @Test
    void aRestoredChunkKeepsItsInputPartition() {
        final KeyValueStore<String, Integer> store = Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(SpillwayTopology.OPEN_PARTITION_STORE), Serdes.String(), Serdes.Integer())
                .withLoggingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
        final OpenChunkPartitions before = OpenChunkPartitions.restore(store);
        before.opened("u1", 1);
        before.opened("u2", 2);
        assertThat(before.handedOver("u2")).isEqualTo(2);

        final OpenChunkPartitions restored = OpenChunkPartitions.restore(store);
        assertThat(restored.handedOver("u1")).isEqualTo(1);
        assertThat(restored.handedOver("u2")).as("handed over before: none kept, partition 0").isZero();
        assertThat(store.approximateNumEntries()).isZero();
    }
}
