package io.spillway.engine.checkpoint;

import io.spillway.engine.checkpoint.store.OffChipStore;
import java.nio.ByteBuffer;

/** An off-chip store that passes every call to another; tests override what they observe or disturb. */
abstract class ForwardingStore implements OffChipStore {
    private final OffChipStore inner;

    ForwardingStore(final OffChipStore inner) {
        this.inner = inner;
    }

    @Override
    public int capacity() {
        return inner.capacity();
    }

    @Override
    public int recordBytes() {
        return inner.recordBytes();
    }

    @Override
    public void write(final int slot, final ByteBuffer record) {
        inner.write(slot, record);
    }

    @Override
    public ByteBuffer read(final int slot) {
        return inner.read(slot);
    }

    @Override
    public long reservedBytes() {
        return inner.reservedBytes();
    }

    @Override
    public void close() {
        inner.close();
    }
}
