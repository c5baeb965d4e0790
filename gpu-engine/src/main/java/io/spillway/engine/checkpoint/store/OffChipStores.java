package io.spillway.engine.checkpoint.store;

import java.nio.file.Path;

/** Makes the off-chip store a window needs, once its record size and count are known. */
@FunctionalInterface
public interface OffChipStores {

    /** A store of {@code capacity} records of at most {@code recordBytes} bytes; the caller closes it. */
    OffChipStore create(int capacity, int recordBytes);

    /** Off-heap host memory. */
    static OffChipStores hostMemory() {
        return HostMemoryStore::new;
    }

    /** A memory-mapped file in {@code folder}. */
    static OffChipStores mappedFile(final Path folder) {
        return (capacity, recordBytes) -> new MappedFileStore(folder, capacity, recordBytes);
    }
}
