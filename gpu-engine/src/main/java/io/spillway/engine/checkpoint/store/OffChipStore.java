package io.spillway.engine.checkpoint.store;

import java.nio.ByteBuffer;

/**
 * Fixed-size checkpoint records in off-chip memory (host RAM or a memory-mapped file), addressed by slot.
 * Slots are used as a ring: slot {@code j} lives at {@code (j mod capacity) * recordBytes}.
 *
 * <p>Threading: a write and reads of other slots may run concurrently (the executor prefetches slot j-1
 * while it computes segment j); two operations on one slot must not.
 */
public interface OffChipStore extends AutoCloseable {

    /** Records the store holds before slots are reused. */
    int capacity();

    /** Largest record, in bytes. */
    int recordBytes();

    /**
     * Copies {@code record} (position to limit) into {@code slot}.
     *
     * @throws IllegalArgumentException when the record exceeds {@link #recordBytes()}
     */
    void write(int slot, ByteBuffer record);

    /** A read-only view of the record in {@code slot}, positioned at its start with its exact length. */
    ByteBuffer read(int slot);

    /** Bytes reserved in off-chip memory. */
    long reservedBytes();

    @Override
    void close();
}
