package io.spillway.engine.backend.cuda.internals;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A shared library found at run time by its sonames, so no native jar is needed: the loader's own
 * search path first (ldconfig, LD_LIBRARY_PATH), then the usual CUDA folders. The error names every
 * soname and folder tried.
 */
public final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String name;
    private final SymbolLookup lookup;

    private NativeLibrary(final String name, final SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /**
     * Loads the first of {@code sonames} that opens.
     *
     * @throws CudaUnavailableException naming what was tried, when none opens
     */
    public static NativeLibrary load(final String what, final List<String> sonames) {
        final List<String> tried = new ArrayList<>();
        for (final String soname : sonames) {
            final Optional<SymbolLookup> byName = open(soname);
            if (byName.isPresent()) {
                return new NativeLibrary(soname, byName.get());
            }
            tried.add(soname);
        }
        for (final Path folder : folders()) {
            for (final String soname : sonames) {
                final Path candidate = folder.resolve(soname);
                if (Files.isRegularFile(candidate)) {
                    final Optional<SymbolLookup> byPath = open(candidate.toString());
                    if (byPath.isPresent()) {
                        return new NativeLibrary(candidate.toString(), byPath.get());
                    }
                }
                tried.add(candidate.toString());
            }
        }
        throw new CudaUnavailableException(what + " not found; tried " + String.join(", ", tried)
                + " (set SPILLWAY_CUDA_LIB_PATH to the folder holding it)");
    }

    private static Optional<SymbolLookup> open(final String nameOrPath) {
        try {
            // The global arena keeps the library loaded for the life of the JVM, as the driver expects.
            return Optional.of(SymbolLookup.libraryLookup(nameOrPath, Arena.global()));
        } catch (final IllegalArgumentException notFound) {
            return Optional.empty();
        }
    }

    private static List<Path> folders() {
        final Set<Path> folders = new LinkedHashSet<>();
        for (final String env : List.of("SPILLWAY_CUDA_LIB_PATH", "CUDA_HOME", "CUDA_PATH")) {
            final String value = System.getenv(env);
            if (value != null && !value.isBlank()) {
                for (final String part : value.split(":")) {
                    folders.add(Path.of(part));
                    folders.add(Path.of(part, "lib64"));
                }
            }
        }
        folders.add(Path.of("/usr/local/cuda/lib64"));
        folders.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        folders.add(Path.of("/usr/local/nvidia/lib64"));
        folders.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        return List.copyOf(folders);
    }

    /** The soname or path that was opened. */
    public String name() {
        return name;
    }

    /** A downcall handle for {@code symbol}, or a clear error when the library lacks it. */
    public MethodHandle function(final String symbol, final FunctionDescriptor descriptor) {
        return find(symbol, descriptor).orElseThrow(
                () -> new CudaUnavailableException(name + " has no symbol " + symbol + " (library too old?)"));
    }

    /** A downcall handle for the first symbol present, for entry points renamed between CUDA versions. */
    public Optional<MethodHandle> find(final String symbol, final FunctionDescriptor descriptor) {
        final Optional<MemorySegment> address = lookup.find(symbol);
        return address.map(a -> LINKER.downcallHandle(a, descriptor));
    }
}
