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

/**
 * Bindings to cuBLAS: one handle bound to one stream, and the single-precision GEMM the dense parts of
 * the model need. Matrices are column-major, as cuBLAS expects.
 */
public final class Cublas implements AutoCloseable {
    /** {@code CUBLAS_OP_N} / {@code CUBLAS_OP_T}. */
    public static final int OP_N = 0;
    public static final int OP_T = 1;
    /** {@code CUBLAS_PEDANTIC_MATH}: no TF32 shortcuts, so results match the CPU to fp32 rounding. */
    private static final int PEDANTIC_MATH = 2;

    private final MethodHandle sgemm;
    private final MethodHandle destroy;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alphaBeta;

    private Cublas(final NativeLibrary lib, final MemorySegment stream) {
        final MethodHandle create = lib.function("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        final MethodHandle setStream = lib.function("cublasSetStream_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        final MethodHandle setMathMode = lib.function("cublasSetMathMode",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        sgemm = lib.function("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG,
                JAVA_INT));
        destroy = lib.function("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        final MemorySegment out = arena.allocate(ADDRESS);
        check("cublasCreate", Driver.call(() -> (int) create.invokeExact(out)));
        handle = out.get(ADDRESS, 0);
        check("cublasSetStream", Driver.call(() -> (int) setStream.invokeExact(handle, stream)));
        check("cublasSetMathMode", Driver.call(() -> (int) setMathMode.invokeExact(handle, PEDANTIC_MATH)));
        alphaBeta = arena.allocate(JAVA_FLOAT, 2);
    }

    /** Opens cuBLAS of CUDA 13 or 12 and creates a handle on {@code stream}. */
    public static Cublas open(final MemorySegment stream) {
        return new Cublas(NativeLibrary.load("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so")),
                stream);
    }

    /** C = alpha * op(A) * op(B) + beta * C, column-major, device pointers. Not thread-safe. */
    public void sgemm(final int transA, final int transB, final int m, final int n, final int k, final float alpha,
                      final long a, final int lda, final long b, final int ldb, final float beta, final long c,
                      final int ldc) {
        alphaBeta.setAtIndex(JAVA_FLOAT, 0, alpha);
        alphaBeta.setAtIndex(JAVA_FLOAT, 1, beta);
        final MemorySegment pa = alphaBeta;
        final MemorySegment pb = alphaBeta.asSlice(4);
        check("cublasSgemm", Driver.call(() -> (int) sgemm.invokeExact(handle, transA, transB, m, n, k, pa, a, lda, b,
                ldb, pb, c, ldc)));
    }

    @Override
    public void close() {
        Driver.call(() -> (int) destroy.invokeExact(handle));
        arena.close();
    }

    private static void check(final String what, final int status) {
        if (status != 0) {
            throw new CudaException(what, status, "CUBLAS_STATUS_" + status);
        }
    }
}
