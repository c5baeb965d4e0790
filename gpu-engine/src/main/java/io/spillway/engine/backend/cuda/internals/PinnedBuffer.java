package io.spillway.engine.backend.cuda.internals;

import io.spillway.engine.memory.Allocation;
import java.lang.foreign.MemorySegment;

/** Page-locked host memory (the GPU's off-chip tier); {@link #close()} frees it. */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment segment;
    private final Allocation receipt;
    private boolean closed;

    PinnedBuffer(final CudaDevice device, final MemorySegment segment, final Allocation receipt) {
        this.device = device;
        this.segment = segment;
        this.receipt = receipt;
    }

    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.driver().freeHost(segment);
            receipt.close();
        }
    }
}
