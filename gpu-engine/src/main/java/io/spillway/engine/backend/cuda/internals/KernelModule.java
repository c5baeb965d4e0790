package io.spillway.engine.backend.cuda.internals;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's kernels: CUDA C kept as a resource, compiled by NVRTC on first use for the device's
 * architecture and cached on disk (keyed by source, architecture and NVRTC version), then loaded into
 * the current context.
 */
public final class KernelModule {
    private static final Logger LOG = LoggerFactory.getLogger(KernelModule.class);
    private static final String RESOURCE = "/io/spillway/engine/backend/cuda/kernels.cu";

    private final Driver driver;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new ConcurrentHashMap<>();

    private KernelModule(final Driver driver, final MemorySegment module) {
        this.driver = driver;
        this.module = module;
    }

    /** Compiles (or reads from the cache) and loads the kernels for {@code sm_<arch>}. */
    public static KernelModule load(final Driver driver, final Nvrtc nvrtc, final int arch, final Path cacheDir) {
        final String source = source();
        final String key = sha256(source + "|sm_" + arch + "|" + nvrtc.version());
        final Path cached = cacheDir == null ? null : cacheDir.resolve("spillway-" + key + ".cubin");
        byte[] cubin = null;
        if (cached != null && Files.isRegularFile(cached)) {
            try {
                cubin = Files.readAllBytes(cached);
            } catch (final IOException unreadable) {
                LOG.warn("Ignoring unreadable kernel cache {}: {}", cached, unreadable.toString());
            }
        }
        if (cubin == null) {
            final long start = System.nanoTime();
            cubin = nvrtc.compileToCubin(source, "kernels.cu", arch);
            LOG.info("Compiled CUDA kernels for sm_{} with NVRTC {} in {} ms", arch, nvrtc.version(),
                    (System.nanoTime() - start) / 1_000_000);
            if (cached != null) {
                store(cached, cubin);
            }
        }
        return new KernelModule(driver, driver.loadModule(cubin));
    }

    private static void store(final Path cached, final byte[] cubin) {
        try {
            Files.createDirectories(cached.getParent());
            final Path tmp = Files.createTempFile(cached.getParent(), "cubin", ".tmp");
            Files.write(tmp, cubin);
            Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (final IOException notWritable) {
            LOG.warn("Kernel cache {} not writable ({}); kernels will be compiled again next time", cached,
                    notWritable.toString());
        }
    }

    /** The kernel named {@code name} (an {@code extern "C"} function of kernels.cu). */
    public MemorySegment function(final String name) {
        return functions.computeIfAbsent(name, n -> driver.function(module, n));
    }

    static String source() {
        try (InputStream in = KernelModule.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("Missing resource " + RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(final String text) {
        try {
            final byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
