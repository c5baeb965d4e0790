package io.spillway.engine.backend.cuda;

import io.spillway.engine.backend.Backend;
import io.spillway.engine.backend.cuda.internals.CudaDevice;
import io.spillway.engine.backend.cuda.internals.CudaKernels;
import io.spillway.engine.backend.cuda.internals.CudaUnavailableException;
import io.spillway.engine.memory.MemoryAccountant;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The CUDA backend: the engine's own, over Java's FFM API (driver API, NVRTC, cuBLAS found at run time
 * by soname; no native jar). Works on any GPU the installed CUDA 12 or 13 supports, Hopper included,
 * because kernels are compiled by NVRTC for the device found.
 *
 * <p>Use {@link #probe()} to learn, without failing, whether a usable GPU is present and why not.
 */
public final class CudaBackend implements Backend {
    private final CudaDevice device;
    private final CudaKernels kernels;

    private CudaBackend(final CudaDevice device) {
        this.device = device;
        this.kernels = new CudaKernels(device);
    }

    /**
     * Opens GPU 0, charging device and pinned-host bytes to {@code accountant}.
     *
     * @throws CudaUnavailableException naming the missing library, symbol or device
     */
    public static CudaBackend open(final MemoryAccountant accountant) {
        return new CudaBackend(CudaDevice.open(0, Objects.requireNonNull(accountant, "accountant"), kernelCache()));
    }

    /** Whether CUDA is usable here: the device description, or the reason it is not. Never throws. */
    public static Probe probe() {
        try (CudaBackend backend = open(new MemoryAccountant())) {
            return new Probe(true, backend.deviceDescription());
        } catch (final LinkageError | RuntimeException e) {
            return new Probe(false, e.getMessage());
        }
    }

    /** Where compiled kernels are cached: {@code $SPILLWAY_CUDA_CACHE} or {@code ~/.cache/spillway/cuda}. */
    public static Path kernelCache() {
        final String env = System.getenv("SPILLWAY_CUDA_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "spillway", "cuda");
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceDescription() {
        return device.describe();
    }

    /** The device, for the engine's CUDA implementations of the model and window kernels. */
    public CudaDevice device() {
        return device;
    }

    public CudaKernels kernels() {
        return kernels;
    }

    @Override
    public void close() {
        device.close();
    }

    /**
     * Outcome of {@link #probe()}.
     *
     * @param available whether a GPU can be used
     * @param detail the device description when available, otherwise why not
     */
    public record Probe(boolean available, String detail) {
        public Optional<String> reasonUnavailable() {
            return available ? Optional.empty() : Optional.of(detail);
        }
    }
}
