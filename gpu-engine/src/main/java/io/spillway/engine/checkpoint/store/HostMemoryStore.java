package io.spillway.engine.checkpoint.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Checkpoint records in off-heap host memory (outside the Java heap, freed on {@link #close()}). On a GPU
 * the CUDA backend uses page-locked memory instead, so copies overlap compute.
 */
public final class HostMemoryStore extends SegmentStore {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment memory;

    /**
     * @param capacity records held before slots are reused (> 0)
     * @param recordBytes largest record in bytes (> 0); slots add a 4-byte length and are 64-byte aligned
     */
    public HostMemoryStore(final int capacity, final int recordBytes) {
        super(capacity, recordBytes, 64);
        this.memory = arena.allocate(totalBytes(), 4096);
    }

    @Override
    MemorySegment memory() {
        return memory;
    }

    @Override
    public void close() {
        arena.close();
    }
}
