package io.spillway.engine.backend.cuda.internals;

import io.spillway.engine.memory.Allocation;

/** Device memory owned by one holder; {@link #close()} frees it and returns the bytes to the accountant. */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final long pointer;
    private final long bytes;
    private final Allocation receipt;
    private boolean closed;

    DeviceBuffer(final CudaDevice device, final long pointer, final long bytes, final Allocation receipt) {
        this.device = device;
        this.pointer = pointer;
        this.bytes = bytes;
        this.receipt = receipt;
    }

    /**
     * A window into this buffer that does not own memory: closing it frees nothing. Valid while this
     * buffer is open.
     */
    public DeviceBuffer view(final long offsetBytes, final long lengthBytes) {
        if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > bytes) {
            throw new IndexOutOfBoundsException("view [" + offsetBytes + ", +" + lengthBytes + ") of " + bytes + " B");
        }
        final DeviceBuffer view = new DeviceBuffer(device, pointer + offsetBytes, lengthBytes, null);
        view.closed = true;
        return view;
    }

    /** The device address (a {@code CUdeviceptr}). */
    public long pointer() {
        return pointer;
    }

    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.driver().free(pointer);
            receipt.close();
        }
    }
}
