package io.spillway.engine.backend.cuda.internals;

import io.spillway.engine.backend.AbstractDenseMatrix;
import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.memory.MemoryAccountant;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The spiking learner's CUDA path: an {@link ArrayBackend} whose dense products (the readout and the spike
 * adjoints {@code W^T dA}, most of a backward step's arithmetic: {@code batch x N x N} per layer and step) run
 * on the GPU through cuBLAS, with every uploaded matrix resident in device memory, while the event-driven
 * operations (row gathers and scatter-adds of the few spiking neurons; the LIF update and surrogate, which are
 * the model's own {@code LifKernels}) stay on the CPU, where touching a few rows costs less than moving them across PCIe.
 *
 * <p>Numerics: the forward pass is the CPU backend's, bitwise; dense products use cuBLAS in pedantic fp32
 * (no TF32), so gradients differ from the CPU backend's only by summation order (the parity test bounds it).
 *
 * <p>Threading: the dense operations run on the thread that calls them (the trainer thread) and make the
 * context current first; the CPU operations are the CPU backend's and may also run on the checkpoint
 * executor's recompute thread.
 */
public final class CudaArrayBackend implements ArrayBackend {
    private final CudaDevice device;
    private final CpuBackend cpu = new CpuBackend();
    private DeviceBuffer x;
    private DeviceBuffer y;
    private PinnedBuffer staging;

    private CudaArrayBackend(final CudaDevice device) {
        this.device = device;
    }

    /**
     * Opens GPU 0. Device bytes of the uploaded matrices and the product buffers, and the pinned staging buffer's
     * host bytes, are booked with {@code accountant}.
     *
     * @throws CudaUnavailableException naming the missing library, symbol or device
     */
    public static CudaArrayBackend open(final MemoryAccountant accountant) {
        return new CudaArrayBackend(CudaDevice.open(accountant));
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String deviceDescription() {
        return device.describe() + " (dense products on the GPU, sparse steps on the CPU)";
    }

    @Override
    public DenseMatrix upload(final float[] data, final int offset, final int rows, final int cols) {
        Objects.checkFromIndexSize(offset, Math.multiplyExact(rows, cols), data.length);
        final DeviceBuffer buffer = device.allocate(4L * rows * cols, "dense matrix " + rows + "x" + cols);
        try {
            copyIn(buffer, data, offset, rows * cols);
        } catch (final RuntimeException e) {
            buffer.close();
            throw e;
        }
        return new CudaMatrix(device, buffer, rows, cols);
    }

    private static CudaMatrix own(final DenseMatrix m) {
        if (!(m instanceof CudaMatrix c)) {
            throw new IllegalArgumentException("matrix was not made by the cuda backend: " + m);
        }
        c.checkOpen();
        return c;
    }

    // Row-major m (rows x cols) is, column-major, m^T with leading dimension cols; likewise x and y.
    @Override
    public void multiplyTransposed(final DenseMatrix m, final float[] xs, final int batch, final float[] ys,
                                   final boolean accumulate) {
        final CudaMatrix a = own(m);
        product(a, xs, a.cols(), ys, a.rows(), batch, accumulate, Cublas.OP_T, a.rows(), a.cols());
    }

    @Override
    public void multiply(final DenseMatrix m, final float[] xs, final int batch, final float[] ys,
                         final boolean accumulate) {
        final CudaMatrix a = own(m);
        product(a, xs, a.rows(), ys, a.cols(), batch, accumulate, Cublas.OP_N, a.cols(), a.rows());
    }

    /** {@code y^T (+)= op(M) x^T} with M = m^T as cuBLAS sees the row-major matrix: {@code outs x inner}. */
    private void product(final CudaMatrix a, final float[] xs, final int xWidth, final float[] ys, final int yWidth,
                         final int batch, final boolean accumulate, final int op, final int outs, final int inner) {
        final int xCount = Math.multiplyExact(batch, xWidth);
        final int yCount = Math.multiplyExact(batch, yWidth);
        Objects.checkFromIndexSize(0, xCount, xs.length);
        Objects.checkFromIndexSize(0, yCount, ys.length);
        device.makeCurrent();
        ensureScratch(xCount, yCount);
        copyIn(x, xs, 0, xCount);
        if (accumulate) {
            copyIn(y, ys, 0, yCount);
        }
        device.cublas().sgemm(op, Cublas.OP_N, outs, batch, inner, 1f, a.buffer.pointer(), a.cols(), x.pointer(), xWidth,
                accumulate ? 1f : 0f, y.pointer(), yWidth);
        copyOut(y, ys, yCount);
    }

    private void ensureScratch(final int xCount, final int yCount) {
        x = grown(x, 4L * xCount, "product input");
        y = grown(y, 4L * yCount, "product output");
        ensureStaging(4L * Math.max(xCount, yCount));
    }

    /** {@code current} when it holds {@code bytes}, else a new buffer of that size (the old one freed). */
    private DeviceBuffer grown(final DeviceBuffer current, final long bytes, final String purpose) {
        if (current != null && current.bytes() >= bytes) {
            return current;
        }
        if (current != null) {
            current.close();
        }
        return device.allocate(bytes, purpose);
    }

    private void ensureStaging(final long bytes) {
        if (staging == null || staging.segment().byteSize() < bytes) {
            if (staging != null) {
                staging.close();
            }
            staging = device.allocatePinned(bytes, "product staging");
        }
    }

    // Through pinned staging, ordered on the compute stream and waited for.
    private void copyIn(final DeviceBuffer dst, final float[] src, final int offset, final int count) {
        ensureStaging(4L * count);
        MemorySegment.copy(src, offset, staging.segment(), ValueLayout.JAVA_FLOAT, 0, count);
        device.driver().copyToDeviceAsync(dst.pointer(), staging.segment(), 4L * count, device.computeStream());
        device.synchronize();
    }

    private void copyOut(final DeviceBuffer src, final float[] dst, final int count) {
        device.driver().copyToHostAsync(staging.segment(), src.pointer(), 4L * count, device.computeStream());
        device.synchronize();
        MemorySegment.copy(staging.segment(), ValueLayout.JAVA_FLOAT, 0, dst, 0, count);
    }

    @Override
    public void accumulateOuter(final float[] g, final int gOffset, final int rows, final int cols, final float[] a,
                                final float[] xs, final int batch) {
        cpu.accumulateOuter(g, gOffset, rows, cols, a, xs, batch);
    }

    @Override
    public void gatherRows(final float[] w, final int wOffset, final int cols, final int[] rows, final float[] scales,
                           final int from, final int to, final float[] out, final int outOffset) {
        cpu.gatherRows(w, wOffset, cols, rows, scales, from, to, out, outOffset);
    }

    @Override
    public void scatterAddRows(final float[] g, final int gOffset, final int cols, final int[] rows,
                               final float[] scales, final int from, final int to, final float[] src,
                               final int srcOffset) {
        cpu.scatterAddRows(g, gOffset, cols, rows, scales, from, to, src, srcOffset);
    }

    @Override
    public void dotRows(final float[] w, final int wOffset, final int cols, final int[] rows, final int count,
                        final float[] xs, final int xOffset, final float[] out, final int outOffset) {
        cpu.dotRows(w, wOffset, cols, rows, count, xs, xOffset, out, outOffset);
    }

    @Override
    public void close() {
        device.makeCurrent();
        try {
            for (final AutoCloseable c : new AutoCloseable[] {x, y, staging}) {
                if (c != null) {
                    c.close();
                }
            }
        } catch (final Exception e) {
            throw new IllegalStateException("freeing product buffers failed", e);
        } finally {
            cpu.close();
            device.close();
        }
    }

    /** A row-major matrix in device memory. */
    private static final class CudaMatrix extends AbstractDenseMatrix {
        final CudaDevice device;
        final DeviceBuffer buffer;

        CudaMatrix(final CudaDevice device, final DeviceBuffer buffer, final int rows, final int cols) {
            super(rows, cols);
            this.device = device;
            this.buffer = buffer;
        }

        @Override
        protected void release() {
            device.makeCurrent(); // the closing thread may not have used the context yet
            buffer.close();
        }
    }
}
