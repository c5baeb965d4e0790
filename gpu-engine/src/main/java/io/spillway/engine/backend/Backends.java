package io.spillway.engine.backend;

import io.spillway.engine.memory.MemoryAccountant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks a backend at run time, the way Lucene picks its vectorization provider: the {@link BackendProvider}s on
 * the class path are looked up once with {@link ServiceLoader}; a name opens that one, {@code auto} tries them in
 * order of preference (CUDA before the CPU) and logs which one it took and why it passed over the others. This is
 * the only place a backend is chosen, and it names no implementation. Thread-safe.
 */
public final class Backends {
    /** The name that takes the most preferred backend that opens here. */
    public static final String AUTO = "auto";

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
    private static final List<BackendProvider> PROVIDERS = load();

    private Backends() {
    }

    /**
     * A backend by name.
     *
     * @param name a provider's name ({@code cpu}, {@code cuda}) or {@code auto}, case-insensitive; never null
     * @param accountant books the device bytes the backend allocates; never null
     * @return a new backend; the caller owns it and must close it
     * @throws BackendUnavailableException if a backend was named explicitly and cannot run here
     * @throws IllegalArgumentException for an unknown name
     */
    public static ArrayBackend select(final String name, final MemoryAccountant accountant) {
        Objects.requireNonNull(accountant, "accountant");
        final String n = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
        if (!n.equals(AUTO)) {
            final BackendProvider provider = provider(n);
            try {
                return provider.open(accountant);
            } catch (final RuntimeException | LinkageError e) {
                throw new BackendUnavailableException("backend '" + n + "' requested but unavailable: "
                        + e.getMessage() + "; use --backend " + fallbackName() + " or auto");
            }
        }
        final List<String> passedOver = new ArrayList<>();
        for (final BackendProvider provider : PROVIDERS) {
            try {
                final ArrayBackend backend = provider.open(accountant);
                if (passedOver.isEmpty()) {
                    LOG.info("backend auto: using {}: {}", provider.name(), backend.deviceDescription());
                } else {
                    LOG.info("backend auto: using {} because {}", provider.name(), String.join("; ", passedOver));
                }
                return backend;
            } catch (final RuntimeException | LinkageError e) {
                passedOver.add(provider.name() + " is unavailable (" + e.getMessage() + ")");
            }
        }
        throw new BackendUnavailableException("backend auto: no backend opens here: " + String.join("; ", passedOver));
    }

    /**
     * {@link #select} with an accountant of its own, for callers that do not measure device memory.
     *
     * @see #select(String, MemoryAccountant)
     */
    public static ArrayBackend select(final String name) {
        return select(name, new MemoryAccountant());
    }

    /** The names a backend can be asked for, most preferred first ({@code auto} not included). */
    public static List<String> names() {
        return PROVIDERS.stream().map(BackendProvider::name).toList();
    }

    /**
     * Whether the backend {@code name} opens here: its device description, or the reason it does not. Opens and
     * closes it once, with a throwaway accountant. Never throws for a known name.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static Probe probe(final String name) {
        final BackendProvider provider = provider(Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT));
        try (ArrayBackend backend = provider.open(new MemoryAccountant())) {
            return new Probe(true, backend.deviceDescription());
        } catch (final RuntimeException | LinkageError e) {
            return new Probe(false, e.getMessage());
        }
    }

    /**
     * Outcome of {@link #probe}.
     *
     * @param available whether the backend opens here
     * @param detail the device description when available, otherwise why not
     */
    public record Probe(boolean available, String detail) {
    }

    private static BackendProvider provider(final String name) {
        for (final BackendProvider p : PROVIDERS) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "': expected "
                + String.join(", ", names()) + " or auto");
    }

    /** The least preferred backend: the one to suggest when a named one cannot run. */
    private static String fallbackName() {
        return PROVIDERS.getLast().name();
    }

    private static List<BackendProvider> load() {
        final List<BackendProvider> found = new ArrayList<>();
        final Iterator<BackendProvider> it = ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())
                .iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (final ServiceConfigurationError e) {
                // one broken provider (a class that does not load here) must not hide the others
                LOG.warn("backend provider skipped: {}", e.getMessage());
            }
        }
        final Set<String> names = new HashSet<>();
        for (final BackendProvider p : found) {
            if (p.name().equals(AUTO) || !p.name().equals(p.name().toLowerCase(Locale.ROOT)) || !names.add(p.name())) {
                throw new IllegalStateException("backend providers need distinct lower-case names other than auto: "
                        + found.stream().map(q -> q.name() + "=" + q.getClass().getName())
                                .collect(Collectors.joining(", ")));
            }
        }
        if (found.isEmpty()) {
            throw new IllegalStateException("no backend provider on the class path (META-INF/services/"
                    + BackendProvider.class.getName() + " is missing)");
        }
        found.sort(Comparator.comparingInt(BackendProvider::preference).reversed()
                .thenComparing(BackendProvider::name));
        return List.copyOf(found);
    }
}
