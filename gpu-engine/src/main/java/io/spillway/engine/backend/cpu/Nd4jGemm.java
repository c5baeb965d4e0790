package io.spillway.engine.backend.cpu;

import java.util.Arrays;
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

    /** {@code x (batch x m.cols) times m^T}, row-major. */
    static float[] timesTransposed(final CpuMatrix m, final float[] x, final int batch) {
        final INDArray xa = Nd4j.create(Arrays.copyOf(x, batch * m.cols()), new long[] {batch, m.cols()},
                DataType.FLOAT);
        return xa.mmul(transposed(m)).data().asFloat();
    }

    /** {@code x (batch x m.rows) times m}, row-major. */
    static float[] times(final CpuMatrix m, final float[] x, final int batch) {
        final INDArray xa = Nd4j.create(Arrays.copyOf(x, batch * m.rows()), new long[] {batch, m.rows()},
                DataType.FLOAT);
        return xa.mmul(plain(m)).data().asFloat();
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
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    t[c * rows + r] = m.data[r * cols + c];
                }
            }
            m.blasTransposed(Nd4j.create(t, new long[] {cols, rows}, DataType.FLOAT));
        }
        return (INDArray) m.blasTransposed();
    }
}
