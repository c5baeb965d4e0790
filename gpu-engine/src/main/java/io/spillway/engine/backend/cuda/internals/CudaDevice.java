package io.spillway.engine.backend.cuda.internals;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.spillway.engine.memory.Allocation;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One GPU as the engine uses it: the primary context, a compute stream and a copy stream (so spills and
 * prefetches overlap compute), the compiled kernels and a cuBLAS handle. Every device and pinned-host
 * byte goes through the {@link MemoryAccountant}.
 *
 * <p>Threading: calls may come from any thread; each entry point makes the context current first.
 */
public final class CudaDevice implements AutoCloseable {
    private final Driver driver;
    private final Nvrtc nvrtc;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment computeStream;
    private final MemorySegment copyStream;
    private final KernelModule kernels;
    private final Cublas cublas;
    private final MemoryAccountant accountant;
    private final String name;
    private final int arch;
    private final int multiprocessors;

    private CudaDevice(final int ordinal, final MemoryAccountant accountant, final Path kernelCache) {
        this.driver = Driver.load();
        if (driver.deviceCount() <= ordinal) {
            throw new CudaUnavailableException("no CUDA device " + ordinal + " (the driver sees "
                    + driver.deviceCount() + ")");
        }
        this.nvrtc = Nvrtc.load();
        this.accountant = accountant;
        this.device = driver.device(ordinal);
        this.context = driver.retainPrimaryContext(device);
        driver.setCurrent(context);
        this.name = driver.deviceName(device);
        this.arch = driver.attribute(Driver.ATTR_COMPUTE_CAPABILITY_MAJOR, device) * 10
                + driver.attribute(Driver.ATTR_COMPUTE_CAPABILITY_MINOR, device);
        this.multiprocessors = driver.attribute(Driver.ATTR_MULTIPROCESSOR_COUNT, device);
        this.computeStream = driver.createStream();
        this.copyStream = driver.createStream();
        this.kernels = KernelModule.load(driver, nvrtc, arch, kernelCache);
        this.cublas = Cublas.open(computeStream);
    }

    /**
     * Opens GPU 0 with the kernels cached under {@link #kernelCache()}, charging device and pinned-host bytes to
     * {@code accountant}.
     *
     * @throws CudaUnavailableException naming the missing library, symbol or device
     */
    public static CudaDevice open(final MemoryAccountant accountant) {
        return open(0, Objects.requireNonNull(accountant, "accountant"), kernelCache());
    }

    /** Where compiled kernels are cached: {@code $SPILLWAY_CUDA_CACHE} or {@code ~/.cache/spillway/cuda}. */
    public static Path kernelCache() {
        final String env = System.getenv("SPILLWAY_CUDA_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "spillway", "cuda");
    }

    /** Opens GPU {@code ordinal}. @throws CudaUnavailableException naming what is missing */
    public static CudaDevice open(final int ordinal, final MemoryAccountant accountant, final Path kernelCache) {
        return new CudaDevice(ordinal, accountant, kernelCache);
    }

    public String name() {
        return name;
    }

    /** Compute capability as one number, e.g. 90 for Hopper. */
    public int arch() {
        return arch;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public String describe() {
        final long[] info = memoryInfo();
        return name + " (sm_" + arch + ", " + multiprocessors + " SMs, " + (info[1] >> 20) + " MiB; driver "
                + driver.libraryName() + ", NVRTC " + nvrtc.version() + ")";
    }

    public Driver driver() {
        makeCurrent();
        return driver;
    }

    public KernelModule kernels() {
        return kernels;
    }

    public Cublas cublas() {
        makeCurrent();
        return cublas;
    }

    public MemorySegment computeStream() {
        return computeStream;
    }

    public MemorySegment copyStream() {
        return copyStream;
    }

    public MemoryAccountant accountant() {
        return accountant;
    }

    /** {free, total} device bytes as the driver reports them ({@code cuMemGetInfo}). */
    public long[] memoryInfo() {
        makeCurrent();
        return driver.memoryInfo();
    }

    public void makeCurrent() {
        driver.setCurrent(context);
    }

    /** Device memory, accounted as {@link MemoryTier#DEVICE}. */
    public DeviceBuffer allocate(final long bytes, final String purpose) {
        final Allocation receipt = accountant.allocate(MemoryTier.DEVICE, bytes, purpose);
        try {
            makeCurrent();
            return new DeviceBuffer(this, driver.malloc(Math.max(bytes, 4)), bytes, receipt);
        } catch (final RuntimeException e) {
            receipt.close();
            throw e;
        }
    }

    /** Page-locked host memory, accounted as {@link MemoryTier#OFF_CHIP}. */
    public PinnedBuffer allocatePinned(final long bytes, final String purpose) {
        final Allocation receipt = accountant.allocate(MemoryTier.OFF_CHIP, bytes, purpose);
        try {
            makeCurrent();
            return new PinnedBuffer(this, driver.mallocHost(Math.max(bytes, 4)), receipt);
        } catch (final RuntimeException e) {
            receipt.close();
            throw e;
        }
    }

    public void upload(final DeviceBuffer dst, final float[] src) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_FLOAT, src);
            copyIn(dst, host);
        }
    }

    public void upload(final DeviceBuffer dst, final int[] src) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_INT, src);
            copyIn(dst, host);
        }
    }

    public void upload(final DeviceBuffer dst, final double[] src) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, src);
            copyIn(dst, host);
        }
    }

    public void upload(final DeviceBuffer dst, final short[] src) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_SHORT, src);
            copyIn(dst, host);
        }
    }

    // Ordered on the compute stream (a plain cuMemcpyHtoD runs on the legacy stream, which our
    // non-blocking streams do not wait for), then waited for, so the host arena may be freed.
    private void copyIn(final DeviceBuffer dst, final MemorySegment host) {
        driver().copyToDeviceAsync(dst.pointer(), host, host.byteSize(), computeStream);
        driver.synchronize(computeStream);
    }

    public float[] downloadFloats(final DeviceBuffer src, final int count) {
        synchronize();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            driver.copyToHost(host, src.pointer(), host.byteSize());
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public double[] downloadDoubles(final DeviceBuffer src, final int count) {
        synchronize();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocate(ValueLayout.JAVA_DOUBLE, count);
            driver.copyToHost(host, src.pointer(), host.byteSize());
            return host.toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    public int[] downloadInts(final DeviceBuffer src, final int count) {
        synchronize();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocate(ValueLayout.JAVA_INT, count);
            driver.copyToHost(host, src.pointer(), host.byteSize());
            return host.toArray(ValueLayout.JAVA_INT);
        }
    }

    public short[] downloadShorts(final DeviceBuffer src, final int count) {
        synchronize();
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment host = arena.allocate(ValueLayout.JAVA_SHORT, count);
            driver.copyToHost(host, src.pointer(), host.byteSize());
            return host.toArray(ValueLayout.JAVA_SHORT);
        }
    }

    /** Fills a buffer with a 32-bit pattern, in order on the compute stream (e.g. NaN bits to poison outputs in tests). */
    public void fill(final DeviceBuffer buffer, final int pattern) {
        driver().fill32Async(buffer.pointer(), pattern, buffer.bytes() / 4, computeStream);
    }

    /** Waits for all work on the compute stream. */
    public void synchronize() {
        driver().synchronize(computeStream);
    }

    /** Launches a kernel on the compute stream. */
    public void launch(final String kernel, final int gridX, final int gridY, final int block, final int sharedBytes,
                       final LaunchArgs args) {
        makeCurrent();
        driver.launch(kernels.function(kernel), gridX, gridY, block, sharedBytes, computeStream, args.segment());
    }

    static byte[] bytes(final MemorySegment segment) {
        return segment.toArray(JAVA_BYTE);
    }

    @Override
    public void close() {
        makeCurrent();
        driver.synchronize();
        cublas.close();
    }
}
