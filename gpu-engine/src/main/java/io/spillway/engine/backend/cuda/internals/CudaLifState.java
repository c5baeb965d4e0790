package io.spillway.engine.backend.cuda.internals;

/**
 * The carried state of one LIF layer for a batch, on the device: membranes V [batch][neurons], the spike
 * lists [batch][capacity] (ascending ids) and their counts [batch]. One contiguous allocation, so a
 * checkpoint is one copy.
 */
public final class CudaLifState implements AutoCloseable {
    private final DeviceBuffer memory;
    private final DeviceBuffer v;
    private final DeviceBuffer spikes;
    private final DeviceBuffer counts;

    CudaLifState(final CudaDevice device, final int batch, final int neurons, final int capacity, final String purpose) {
        final long vBytes = 4L * batch * neurons;
        final long sBytes = 4L * batch * capacity;
        final long cBytes = 4L * batch;
        this.memory = device.allocate(bytes(batch, neurons, capacity), purpose);
        this.v = memory.view(0, vBytes);
        this.spikes = memory.view(vBytes, sBytes);
        this.counts = memory.view(vBytes + sBytes, cBytes);
    }

    /** Device bytes of one state. */
    public static long bytes(final int batch, final int neurons, final int capacity) {
        return 4L * batch * neurons + 4L * batch * capacity + 4L * batch;
    }

    public DeviceBuffer memory() {
        return memory;
    }

    public DeviceBuffer v() {
        return v;
    }

    public DeviceBuffer spikes() {
        return spikes;
    }

    public DeviceBuffer counts() {
        return counts;
    }

    @Override
    public void close() {
        memory.close();
    }
}
