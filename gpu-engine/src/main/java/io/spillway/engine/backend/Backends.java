package io.spillway.engine.backend;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.backend.cuda.CudaArrayBackend;
import io.spillway.engine.backend.cuda.CudaBackend;
import io.spillway.engine.memory.MemoryAccountant;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks a backend at run time, the way Lucene picks its vectorization provider: {@code cpu} is always
 * available, {@code cuda} when a usable GPU and CUDA libraries are found, {@code auto} takes the best one
 * available and logs why it fell back. Thread-safe (stateless).
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /**
     * Any backend by name.
     *
     * @param name {@code cpu}, {@code cuda} or {@code auto} (case-insensitive); never null
     * @param accountant books the device bytes a GPU backend allocates; never null
     * @return a new backend; the caller owns it and must close it
     * @throws BackendUnavailableException if {@code cuda} was asked for explicitly and cannot run here
     * @throws IllegalArgumentException for an unknown name
     */
    public static Backend select(final String name, final MemoryAccountant accountant) {
        Objects.requireNonNull(accountant, "accountant");
        return switch (normalise(name)) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> openCuda(accountant);
            default -> {
                try {
                    yield CudaBackend.open(accountant);
                } catch (final RuntimeException | LinkageError e) {
                    LOG.info("backend auto: using cpu because cuda is unavailable ({})", e.getMessage());
                    yield new CpuBackend();
                }
            }
        };
    }

    /**
     * A backend that computes on heap arrays, for the spiking learner's model: {@code cpu}, or {@code cuda}
     * ({@link CudaArrayBackend}: dense products on the GPU, sparse steps on the CPU); {@code auto} takes CUDA
     * when a usable GPU is found and otherwise the CPU, and logs which and why.
     *
     * @param name {@code cpu}, {@code cuda} or {@code auto} (case-insensitive); never null
     * @return a new backend; the caller owns it and must close it
     * @throws BackendUnavailableException if {@code cuda} was asked for explicitly and cannot run here
     * @throws IllegalArgumentException for an unknown name
     */
    public static ArrayBackend selectForLearner(final String name) {
        return switch (normalise(name)) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> {
                try {
                    yield CudaArrayBackend.open();
                } catch (final RuntimeException | LinkageError e) {
                    throw new BackendUnavailableException("backend 'cuda' requested but unavailable: " + e.getMessage()
                            + "; use --backend cpu or auto");
                }
            }
            default -> {
                try {
                    final ArrayBackend cuda = CudaArrayBackend.open();
                    LOG.info("backend auto: using cuda for the spiking learner: {}", cuda.deviceDescription());
                    yield cuda;
                } catch (final RuntimeException | LinkageError e) {
                    LOG.info("backend auto: using cpu for the spiking learner because cuda is unavailable ({})",
                            e.getMessage());
                    yield new CpuBackend();
                }
            }
        };
    }

    private static String normalise(final String name) {
        final String n = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
        if (!n.equals("cpu") && !n.equals("cuda") && !n.equals("auto")) {
            throw new IllegalArgumentException("unknown backend '" + name + "': expected cpu, cuda or auto");
        }
        return n;
    }

    private static Backend openCuda(final MemoryAccountant accountant) {
        try {
            return CudaBackend.open(accountant);
        } catch (final RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("backend 'cuda' requested but unavailable: " + e.getMessage()
                    + "; use --backend cpu or auto");
        }
    }
}
