package io.spillway.engine.backend.cpu;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The ND4J/OpenBLAS sgemm path of {@link DenseKernels}; the only class of the CPU backend that names ND4J. */
final class Nd4jGemm {

    private Nd4jGemm() {
    }

    /**
     * Loads ND4J and pins BLAS and ND4J's OpenMP to one thread: a fixed summation order, and no
     * oversubscription next to the trainer and Kafka threads (two-thread sgemm measured slower than Java loops
     * on a busy two-core machine).
     */
    static void initialise() {
        Nd4j.factory().blas().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
    }

    /**
     * Per thread, per shape: the input and output arrays of the last products, reused so that a product costs one
     * bulk copy in and one out (creating an array from a {@code float[]} copies it element by element).
     */
    private static final ThreadLocal<Map<Long, INDArray>> SCRATCH = ThreadLocal.withInitial(HashMap::new);

    private static INDArray scratch(final int slot, final int rows, final int cols) {
        final long key = ((long) slot << 62) | ((long) rows << 31) | cols;
        return SCRATCH.get().computeIfAbsent(key, k -> Nd4j.createUninitialized(DataType.FLOAT, rows, cols));
    }

    private static INDArray load(final float[] x, final int rows, final int cols) {
        final INDArray a = scratch(0, rows, cols);
        new FloatPointer(a.data().addressPointer()).put(x, 0, rows * cols);
        return a;
    }

    /** Per thread, the last product copied out (see {@link #unload}). */
    private static final ThreadLocal<float[][]> RESULT = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /**
     * The first {@code length} entries of {@code a}, in the calling thread's result buffer: valid until the thread's
     * next product, and possibly longer than {@code length} (a fresh array per product was a sixteenth of a step's
     * garbage).
     */
    private static float[] unload(final INDArray a, final int length) {
        final float[][] holder = RESULT.get();
        if (holder[0].length < length) {
            holder[0] = new float[length];
        }
        new FloatPointer(a.data().addressPointer()).get(holder[0], 0, length);
        return holder[0];
    }

    /** {@code x (batch x m.cols) times m^T}, row-major, in the thread's result buffer ({@link #unload}). */
    static float[] timesTransposed(final CpuMatrix m, final float[] x, final int batch) {
        final INDArray out = scratch(1, batch, m.rows());
        load(x, batch, m.cols()).mmuli(transposed(m), out);
        return unload(out, batch * m.rows());
    }

    /** {@code x (batch x m.rows) times m}, row-major, in the thread's result buffer ({@link #unload}). */
    static float[] times(final CpuMatrix m, final float[] x, final int batch) {
        final INDArray out = scratch(1, batch, m.cols());
        load(x, batch, m.rows()).mmuli(plain(m), out);
        return unload(out, batch * m.cols());
    }

    /**
     * {@code a^T x} for {@code a (batch x rows)} and {@code x (batch x cols)}, row-major: rows x cols, in the
     * thread's result buffer ({@link #unload}).
     */
    static float[] transposedTimes(final float[] a, final float[] x, final int batch, final int rows,
                                   final int cols) {
        final INDArray left = scratch(2, batch, rows);
        new FloatPointer(left.data().addressPointer()).put(a, 0, batch * rows);
        final INDArray right = scratch(3, batch, cols);
        new FloatPointer(right.data().addressPointer()).put(x, 0, batch * cols);
        final INDArray out = scratch(1, rows, cols);
        left.transpose().mmuli(right, out);
        return unload(out, rows * cols);
    }

    private static INDArray plain(final CpuMatrix m) {
        if (m.blasView() == null) {
            m.blasView(Nd4j.create(m.data, new long[] {m.rows(), m.cols()}, DataType.FLOAT));
        }
        return (INDArray) m.blasView();
    }

    /** A row-major copy of the transpose, so sgemm reads plain 'c' arrays (no strided view per call). */
    private static INDArray transposed(final CpuMatrix m) {
        if (m.blasTransposed() == null) {
            final int rows = m.rows();
            final int cols = m.cols();
            final float[] t = new float[rows * cols];
            // in tiles, so that both the rows read and the rows written stay in the cache (a plain double loop
            // misses on every write once a row of the transpose outgrows it: 7% of a wide model's step)
            final int tile = 32;
            for (int r0 = 0; r0 < rows; r0 += tile) {
                final int r1 = Math.min(rows, r0 + tile);
                for (int c0 = 0; c0 < cols; c0 += tile) {
                    final int c1 = Math.min(cols, c0 + tile);
                    for (int r = r0; r < r1; r++) {
                        for (int c = c0; c < c1; c++) {
                            t[c * rows + r] = m.data[r * cols + c];
                        }
                    }
                }
            }
            m.blasTransposed(Nd4j.create(t, new long[] {cols, rows}, DataType.FLOAT));
        }
        return (INDArray) m.blasTransposed();
    }
}
