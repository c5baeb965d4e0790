package io.spillway.engine.backend;

import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.memory.Allocation;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;

/**
 * A backend provider found only on the test class path ({@code src/test/resources/META-INF/services}), as a
 * third-party backend would be: the CPU backend, except that every uploaded matrix books its bytes as device
 * memory with the accountant it was opened with, the way a GPU backend does. Least preferred, so {@code auto}
 * never takes it; its window kernels are the reference's, counted. It shows that {@link Backends} needs no change for a new backend, and lets a test without a GPU
 * check that a learner's device peak includes its backend's matrices.
 */
public final class DeviceBookingBackendProvider implements BackendProvider {
    public static final String NAME = "cpu-booking";
    /** Calls of the window kernels this backend handed out, all instances together. */
    public static final java.util.concurrent.atomic.AtomicLong WINDOW_KERNEL_CALLS =
            new java.util.concurrent.atomic.AtomicLong();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int preference() {
        return -1;
    }

    @Override
    public ArrayBackend open(final MemoryAccountant accountant) {
        return new Booking(accountant);
    }

    private static final class Booking implements ArrayBackend {
        private final CpuBackend cpu = new CpuBackend();
        private final MemoryAccountant accountant;

        Booking(final MemoryAccountant accountant) {
            this.accountant = accountant;
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String deviceDescription() {
            return "cpu with device booking (" + cpu.deviceDescription() + ")";
        }

        @Override
        public DenseMatrix upload(final float[] data, final int offset, final int rows, final int cols) {
            final Allocation receipt = accountant.allocate(MemoryTier.DEVICE, 4L * rows * cols,
                    "dense matrix " + rows + "x" + cols);
            return new Booked(cpu.upload(data, offset, rows, cols), receipt);
        }

        private static DenseMatrix inner(final DenseMatrix m) {
            if (!(m instanceof Booked b)) {
                throw new IllegalArgumentException("matrix was not made by the " + NAME + " backend: " + m);
            }
            b.checkOpen();
            return b.inner;
        }

        @Override
        public void multiplyTransposed(final DenseMatrix m, final float[] x, final int batch, final float[] y,
                                       final boolean accumulate) {
            cpu.multiplyTransposed(inner(m), x, batch, y, accumulate);
        }

        @Override
        public void multiply(final DenseMatrix m, final float[] x, final int batch, final float[] y,
                             final boolean accumulate) {
            cpu.multiply(inner(m), x, batch, y, accumulate);
        }

        @Override
        public void accumulateOuter(final float[] g, final int gOffset, final int rows, final int cols,
                                    final float[] a, final float[] x, final int batch) {
            cpu.accumulateOuter(g, gOffset, rows, cols, a, x, batch);
        }

        @Override
        public void accumulateOuterBlock(final float[] g, final int gOffset, final int rows, final int cols,
                                         final float[] a, final float[] x, final int batch) {
            cpu.accumulateOuterBlock(g, gOffset, rows, cols, a, x, batch);
        }

        @Override
        public void gatherRows(final float[] w, final int wOffset, final int cols, final int[] rows,
                               final float[] scales, final int from, final int to, final float[] out,
                               final int outOffset) {
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
                            final float[] x, final int xOffset, final float[] out, final int outOffset) {
            cpu.dotRows(w, wOffset, cols, rows, count, x, xOffset, out, outOffset);
        }

        @Override
        public int denseSpeedup(final int batch, final int rows, final int cols) {
            return cpu.denseSpeedup(batch, rows, cols);
        }

        /** The reference kernels, counted, so a test can see that the optimizer's window reached them. */
        @Override
        public WindowKernels windowKernels() {
            return new WindowKernels() {
                @Override
                public void dots(final SparseRows rows, final double[] x, final double[] out) {
                    WINDOW_KERNEL_CALLS.incrementAndGet();
                    WindowKernels.JAVA.dots(rows, x, out);
                }

                @Override
                public void addCombination(final SparseRows rows, final double[] alpha, final double[] acc) {
                    WINDOW_KERNEL_CALLS.incrementAndGet();
                    WindowKernels.JAVA.addCombination(rows, alpha, acc);
                }
            };
        }

        @Override
        public void close() {
            cpu.close();
        }
    }

    private static final class Booked extends AbstractDenseMatrix {
        final DenseMatrix inner;
        final Allocation receipt;

        Booked(final DenseMatrix inner, final Allocation receipt) {
            super(inner.rows(), inner.cols());
            this.inner = inner;
            this.receipt = receipt;
        }

        @Override
        protected void release() {
            inner.close();
            receipt.close();
        }
    }
}
