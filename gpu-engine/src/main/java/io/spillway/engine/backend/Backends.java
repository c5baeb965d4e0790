package io.spillway.engine.backend;

import io.spillway.engine.backend.cpu.CpuBackend;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks a {@link Backend} at run time. {@code cpu} is always available; {@code cuda} is reserved for the
 * GPU backend (not built yet); {@code auto} takes the best available and logs why it fell back.
 * Thread-safe (stateless).
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /**
     * @param name {@code cpu}, {@code cuda} or {@code auto} (case-insensitive); never null
     * @return a new backend; the caller owns it and must close it
     * @throws BackendUnavailableException if {@code cuda} was asked for explicitly and cannot run here
     * @throws IllegalArgumentException for an unknown name
     */
    public static Backend select(final String name) {
        Objects.requireNonNull(name, "name");
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu" -> new CpuBackend();
            case "cuda" -> throw new BackendUnavailableException("backend 'cuda' requested but unavailable: "
                    + cudaUnavailableReason() + "; use --backend cpu or auto");
            case "auto" -> {
                LOG.info("backend auto: using cpu because cuda is unavailable ({})", cudaUnavailableReason());
                yield new CpuBackend();
            }
            default -> throw new IllegalArgumentException("unknown backend '" + name + "': expected cpu, cuda or auto");
        };
    }

    /** Why the CUDA backend cannot be used; it is not part of this build yet. */
    static String cudaUnavailableReason() {
        return "this build has no CUDA backend";
    }
}
