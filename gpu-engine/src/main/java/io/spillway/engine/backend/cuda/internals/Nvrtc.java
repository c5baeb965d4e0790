package io.spillway.engine.backend.cuda.internals;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * Bindings to NVRTC: compiles CUDA C source to a cubin for the device's architecture at run time, so
 * kernels ship as source resources and run on any GPU the installed CUDA knows (Hopper included).
 */
public final class Nvrtc {
    private final NativeLibrary lib;
    private final MethodHandle version;
    private final MethodHandle createProgram;
    private final MethodHandle compileProgram;
    private final MethodHandle logSize;
    private final MethodHandle log;
    private final MethodHandle cubinSize;
    private final MethodHandle cubin;
    private final MethodHandle destroyProgram;

    private Nvrtc(final NativeLibrary lib) {
        this.lib = lib;
        version = lib.function("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        createProgram = lib.function("nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compileProgram = lib.function("nvrtcCompileProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        logSize = lib.function("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        log = lib.function("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubinSize = lib.function("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubin = lib.function("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        destroyProgram = lib.function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** Opens NVRTC of CUDA 13 or 12. */
    public static Nvrtc load() {
        return new Nvrtc(NativeLibrary.load("NVRTC",
                List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so")));
    }

    public String libraryName() {
        return lib.name();
    }

    /** "major.minor" of the NVRTC found. */
    public String version() {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment major = arena.allocate(JAVA_INT);
            final MemorySegment minor = arena.allocate(JAVA_INT);
            check("nvrtcVersion", Driver.call(() -> (int) version.invokeExact(major, minor)), null);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /**
     * Compiles {@code source} to a cubin for {@code sm_<arch>}.
     *
     * @throws CudaException with the compiler log when compilation fails
     */
    public byte[] compileToCubin(final String source, final String name, final int arch) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment progOut = arena.allocate(ADDRESS);
            check("nvrtcCreateProgram", Driver.call(() -> (int) createProgram.invokeExact(progOut,
                    arena.allocateFrom(source), arena.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL)), null);
            final MemorySegment prog = progOut.get(ADDRESS, 0);
            try {
                final List<String> options = List.of("--gpu-architecture=sm_" + arch, "--std=c++17",
                        "--fmad=false" /* CPU parity: the CPU backend rounds every multiply and add */);
                final MemorySegment optionArray = arena.allocate(ADDRESS, options.size());
                for (int i = 0; i < options.size(); i++) {
                    optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(options.get(i)));
                }
                final int rc = Driver.call(() -> (int) compileProgram.invokeExact(prog, options.size(), optionArray));
                check("nvrtcCompileProgram(" + name + ")", rc, prog);
                final MemorySegment size = arena.allocate(JAVA_LONG);
                check("nvrtcGetCUBINSize", Driver.call(() -> (int) cubinSize.invokeExact(prog, size)), prog);
                final MemorySegment out = arena.allocate(size.get(JAVA_LONG, 0));
                check("nvrtcGetCUBIN", Driver.call(() -> (int) cubin.invokeExact(prog, out)), prog);
                return out.toArray(JAVA_BYTE);
            } finally {
                Driver.call(() -> (int) destroyProgram.invokeExact(progOut));
            }
        }
    }

    private void check(final String what, final int rc, final MemorySegment prog) {
        if (rc != 0) {
            final String detail = prog == null ? "NVRTC error" : "NVRTC error; log:\n" + programLog(prog);
            throw new CudaException(what, rc, detail);
        }
    }

    private String programLog(final MemorySegment prog) {
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment size = arena.allocate(JAVA_LONG);
            if (Driver.call(() -> (int) logSize.invokeExact(prog, size)) != 0) {
                return "(no log)";
            }
            final MemorySegment text = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            if (Driver.call(() -> (int) log.invokeExact(prog, text)) != 0) {
                return "(no log)";
            }
            return text.getString(0);
        }
    }
}
