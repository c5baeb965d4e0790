package io.spillway.engine.checkpoint.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/** Shared record layout of the stores: per slot a 4-byte length, then the bytes, slots aligned. */
abstract class SegmentStore implements OffChipStore {
    private final int capacity;
    private final int recordBytes;
    private final long slotBytes;

    SegmentStore(final int capacity, final int recordBytes, final long alignment) {
        if (capacity <= 0 || recordBytes <= 0) {
            throw new IllegalArgumentException("capacity and record size must be > 0: " + capacity + ", " + recordBytes);
        }
        this.capacity = capacity;
        this.recordBytes = recordBytes;
        this.slotBytes = (Integer.BYTES + recordBytes + alignment - 1) / alignment * alignment;
    }

    abstract MemorySegment memory();

    long slotBytes() {
        return slotBytes;
    }

    long totalBytes() {
        return slotBytes * capacity;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int recordBytes() {
        return recordBytes;
    }

    @Override
    public long reservedBytes() {
        return totalBytes();
    }

    @Override
    public void write(final int slot, final ByteBuffer record) {
        final int length = record.remaining();
        if (length > recordBytes) {
            throw new IllegalArgumentException("record of " + length + " bytes exceeds the slot size " + recordBytes);
        }
        final MemorySegment at = slot(slot);
        at.set(ValueLayout.JAVA_INT_UNALIGNED, 0, length);
        MemorySegment.copy(MemorySegment.ofBuffer(record), 0, at, Integer.BYTES, length);
    }

    @Override
    public ByteBuffer read(final int slot) {
        final MemorySegment at = slot(slot);
        final int length = at.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        return at.asSlice(Integer.BYTES, length).asByteBuffer().asReadOnlyBuffer();
    }

    private MemorySegment slot(final int slot) {
        if (slot < 0) {
            throw new IndexOutOfBoundsException("slot " + slot);
        }
        return memory().asSlice((slot % capacity) * slotBytes, slotBytes);
    }
}
