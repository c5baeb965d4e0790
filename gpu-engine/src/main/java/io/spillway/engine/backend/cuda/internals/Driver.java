package io.spillway.engine.backend.cuda.internals;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

/**
 * Bindings to the CUDA driver API ({@code libcuda.so.1}) over the FFM API: only the calls the engine
 * makes. Handles (contexts, streams, events, modules, functions) are raw addresses; device pointers are
 * {@code long}. Every call checks its result and throws {@link CudaException} naming the call.
 *
 * <p>Threading: the driver is thread-safe; the current context is per thread, so each thread that
 * calls in must first {@link #setCurrent} the context.
 */
public final class Driver {
    /** Attribute ids of {@code CUdevice_attribute}. */
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    /** {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    public static final int FUNC_MAX_DYNAMIC_SHARED = 8;
    /** {@code CU_STREAM_NON_BLOCKING}: no implicit sync with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 1;

    private static final FunctionDescriptor I_A = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor I_L = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);

    private final NativeLibrary lib;
    private final MethodHandle cuInit;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuCtxSynchronize;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemAllocHost;
    private final MethodHandle cuMemFreeHost;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuMemcpyDtoD;
    private final MethodHandle cuMemcpyDtoDAsync;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemsetD32;
    private final MethodHandle cuMemsetD32Async;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuStreamWaitEvent;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final Optional<MethodHandle> cuEventElapsedTime;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuFuncSetAttribute;
    private final MethodHandle cuLaunchKernel;

    private Driver(final NativeLibrary lib) {
        this.lib = lib;
        cuInit = lib.function("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        cuGetErrorName = lib.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuDeviceGetCount = lib.function("cuDeviceGetCount", I_A);
        cuDeviceGet = lib.function("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = lib.function("cuDeviceGetName",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = lib.function("cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = lib.function("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuCtxSetCurrent = lib.function("cuCtxSetCurrent", I_A);
        cuCtxSynchronize = lib.function("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        cuMemGetInfo = lib.function("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuMemAlloc = lib.function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = lib.function("cuMemFree_v2", I_L);
        cuMemAllocHost = lib.function("cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFreeHost = lib.function("cuMemFreeHost", I_A);
        cuMemcpyHtoD = lib.function("cuMemcpyHtoD_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        cuMemcpyDtoH = lib.function("cuMemcpyDtoH_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        cuMemcpyDtoD = lib.function("cuMemcpyDtoD_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuMemcpyDtoDAsync = lib.function("cuMemcpyDtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyHtoDAsync = lib.function("cuMemcpyHtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = lib.function("cuMemcpyDtoHAsync_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD32 = lib.function("cuMemsetD32_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
        cuMemsetD32Async = lib.function("cuMemsetD32Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
        cuStreamCreate = lib.function("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamSynchronize = lib.function("cuStreamSynchronize", I_A);
        cuStreamWaitEvent = lib.function("cuStreamWaitEvent",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        cuEventCreate = lib.function("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = lib.function("cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuEventSynchronize = lib.function("cuEventSynchronize", I_A);
        // Renamed in CUDA 12.8; the old name may be gone from newer drivers.
        final FunctionDescriptor elapsed = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuEventElapsedTime = lib.find("cuEventElapsedTime_v2", elapsed)
                .or(() -> lib.find("cuEventElapsedTime", elapsed));
        cuModuleLoadData = lib.function("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleGetFunction = lib.function("cuModuleGetFunction",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuFuncSetAttribute = lib.function("cuFuncSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuLaunchKernel = lib.function("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** Opens {@code libcuda.so.1} and calls {@code cuInit}. */
    public static Driver load() {
        final Driver driver = new Driver(NativeLibrary.load("CUDA driver", List.of("libcuda.so.1", "libcuda.so")));
        driver.check("cuInit", call(() -> (int) driver.cuInit.invokeExact(0)));
        return driver;
    }

    public String libraryName() {
        return lib.name();
    }

    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_INT);
            check("cuDeviceGetCount", call(() -> (int) cuDeviceGetCount.invokeExact(out)));
            return out.get(JAVA_INT, 0);
        }
    }

    public int device(final int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_INT);
            check("cuDeviceGet", call(() -> (int) cuDeviceGet.invokeExact(out, ordinal)));
            return out.get(JAVA_INT, 0);
        }
    }

    public String deviceName(final int device) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(256);
            check("cuDeviceGetName", call(() -> (int) cuDeviceGetName.invokeExact(out, 256, device)));
            return out.getString(0);
        }
    }

    public int attribute(final int attribute, final int device) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_INT);
            check("cuDeviceGetAttribute", call(() -> (int) cuDeviceGetAttribute.invokeExact(out, attribute, device)));
            return out.get(JAVA_INT, 0);
        }
    }

    public long totalMemory(final int device) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_LONG);
            check("cuDeviceTotalMem", call(() -> (int) cuDeviceTotalMem.invokeExact(out, device)));
            return out.get(JAVA_LONG, 0);
        }
    }

    /** Retains the device's primary context (the one cuBLAS and the runtime API use too). */
    public MemorySegment retainPrimaryContext(final int device) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", call(() -> (int) cuDevicePrimaryCtxRetain.invokeExact(out, device)));
            return out.get(ADDRESS, 0);
        }
    }

    public void setCurrent(final MemorySegment context) {
        check("cuCtxSetCurrent", call(() -> (int) cuCtxSetCurrent.invokeExact(context)));
    }

    public void synchronize() {
        check("cuCtxSynchronize", call(() -> (int) cuCtxSynchronize.invokeExact()));
    }

    /** {free, total} device bytes as the driver sees them. */
    public long[] memoryInfo() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment free = arena.allocate(JAVA_LONG);
            final MemorySegment total = arena.allocate(JAVA_LONG);
            check("cuMemGetInfo", call(() -> (int) cuMemGetInfo.invokeExact(free, total)));
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    public long malloc(final long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_LONG);
            check("cuMemAlloc(" + bytes + " B)", call(() -> (int) cuMemAlloc.invokeExact(out, bytes)));
            return out.get(JAVA_LONG, 0);
        }
    }

    public void free(final long devicePointer) {
        check("cuMemFree", call(() -> (int) cuMemFree.invokeExact(devicePointer)));
    }

    /** Page-locked host memory, so asynchronous copies really overlap compute. */
    public MemorySegment mallocHost(final long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            check("cuMemAllocHost(" + bytes + " B)", call(() -> (int) cuMemAllocHost.invokeExact(out, bytes)));
            return out.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void freeHost(final MemorySegment host) {
        check("cuMemFreeHost", call(() -> (int) cuMemFreeHost.invokeExact(host)));
    }

    public void copyToDevice(final long dst, final MemorySegment src, final long bytes) {
        check("cuMemcpyHtoD", call(() -> (int) cuMemcpyHtoD.invokeExact(dst, src, bytes)));
    }

    public void copyToHost(final MemorySegment dst, final long src, final long bytes) {
        check("cuMemcpyDtoH", call(() -> (int) cuMemcpyDtoH.invokeExact(dst, src, bytes)));
    }

    public void copyDeviceToDevice(final long dst, final long src, final long bytes) {
        check("cuMemcpyDtoD", call(() -> (int) cuMemcpyDtoD.invokeExact(dst, src, bytes)));
    }

    public void copyDeviceToDeviceAsync(final long dst, final long src, final long bytes, final MemorySegment stream) {
        check("cuMemcpyDtoDAsync", call(() -> (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream)));
    }

    public void copyToDeviceAsync(final long dst, final MemorySegment src, final long bytes, final MemorySegment stream) {
        check("cuMemcpyHtoDAsync", call(() -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream)));
    }

    public void copyToHostAsync(final MemorySegment dst, final long src, final long bytes, final MemorySegment stream) {
        check("cuMemcpyDtoHAsync", call(() -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream)));
    }

    public void fill32(final long dst, final int value, final long count) {
        check("cuMemsetD32", call(() -> (int) cuMemsetD32.invokeExact(dst, value, count)));
    }

    public void fill32Async(final long dst, final int value, final long count, final MemorySegment stream) {
        check("cuMemsetD32Async", call(() -> (int) cuMemsetD32Async.invokeExact(dst, value, count, stream)));
    }

    public MemorySegment createStream() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            check("cuStreamCreate", call(() -> (int) cuStreamCreate.invokeExact(out, STREAM_NON_BLOCKING)));
            return out.get(ADDRESS, 0);
        }
    }

    public void synchronize(final MemorySegment stream) {
        check("cuStreamSynchronize", call(() -> (int) cuStreamSynchronize.invokeExact(stream)));
    }

    public void waitEvent(final MemorySegment stream, final MemorySegment event) {
        check("cuStreamWaitEvent", call(() -> (int) cuStreamWaitEvent.invokeExact(stream, event, 0)));
    }

    public MemorySegment createEvent() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            check("cuEventCreate", call(() -> (int) cuEventCreate.invokeExact(out, 0)));
            return out.get(ADDRESS, 0);
        }
    }

    public void record(final MemorySegment event, final MemorySegment stream) {
        check("cuEventRecord", call(() -> (int) cuEventRecord.invokeExact(event, stream)));
    }

    public void synchronizeEvent(final MemorySegment event) {
        check("cuEventSynchronize", call(() -> (int) cuEventSynchronize.invokeExact(event)));
    }

    /** Milliseconds between two recorded events. */
    public float elapsedMillis(final MemorySegment start, final MemorySegment end) {
        final MethodHandle h = cuEventElapsedTime.orElseThrow(
                () -> new CudaUnavailableException(lib.name() + " has no cuEventElapsedTime"));
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", call(() -> (int) h.invokeExact(out, start, end)));
            return out.get(JAVA_FLOAT, 0);
        }
    }

    public MemorySegment loadModule(final byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            final MemorySegment data = arena.allocate(image.length + 1L);
            MemorySegment.copy(image, 0, data, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, image.length);
            check("cuModuleLoadData", call(() -> (int) cuModuleLoadData.invokeExact(out, data)));
            return out.get(ADDRESS, 0);
        }
    }

    public MemorySegment function(final MemorySegment module, final String name) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            final MemorySegment cname = arena.allocateFrom(name);
            check("cuModuleGetFunction(" + name + ")", call(() -> (int) cuModuleGetFunction.invokeExact(out, module, cname)));
            return out.get(ADDRESS, 0);
        }
    }

    public void setMaxDynamicShared(final MemorySegment function, final int bytes) {
        check("cuFuncSetAttribute", call(() -> (int) cuFuncSetAttribute.invokeExact(function, FUNC_MAX_DYNAMIC_SHARED, bytes)));
    }

    /**
     * Launches {@code function}; {@code params} is an array of pointers to the argument values (the
     * driver copies them before returning).
     */
    public void launch(final MemorySegment function, final int gridX, final int gridY, final int blockX,
                       final int sharedBytes, final MemorySegment stream, final MemorySegment params) {
        check("cuLaunchKernel", call(() -> (int) cuLaunchKernel.invokeExact(function, gridX, gridY, 1, blockX, 1, 1,
                sharedBytes, stream, params, MemorySegment.NULL)));
    }

    void check(final String what, final int result) {
        if (result != 0) {
            throw new CudaException(what, result, errorName(result));
        }
    }

    private String errorName(final int result) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment out = arena.allocate(ADDRESS);
            final int rc = call(() -> (int) cuGetErrorName.invokeExact(result, out));
            return rc == 0 ? out.get(ADDRESS, 0).reinterpret(128).getString(0) : "CUDA_ERROR_" + result;
        }
    }

    /** A native call; {@code Throwable} from {@code invokeExact} is only ever an unchecked failure. */
    @FunctionalInterface
    interface NativeCall {
        int invoke() throws Throwable;
    }

    static int call(final NativeCall c) {
        try {
            return c.invoke();
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
