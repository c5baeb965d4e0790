package io.spillway.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link ArrayBackend} contract, run against every backend {@link Backends} finds (the CPU always, CUDA where
 * a GPU opens, skipped with the reason elsewhere), each checked against plain Java written here: the sparse
 * operations bitwise where the interface fixes their order, the dense products within fp32 reordering error, the
 * batch-wide forms bitwise equal to their element-by-element forms, and the same bits on a second run.
 */
class BackendContractTest {
    private static final Map<String, Backends.Probe> PROBES = new ConcurrentHashMap<>();

    static List<String> backends() {
        return Backends.names();
    }

    private static ArrayBackend open(final String name) {
        final Backends.Probe probe = PROBES.computeIfAbsent(name, Backends::probe);
        assumeTrue(probe.available(), () -> "backend " + name + " skipped: " + probe.detail());
        return Backends.select(name);
    }

    private static float[] gaussian(final SplittableRandom r, final int n) {
        final float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void smallExamplesComputeWhatTheInterfaceDocuments(final String name) {
        try (ArrayBackend b = open(name)) {
            // m = [[1,2,3],[4,5,6]] (2x3); x = two rows; small integers are exact in any summation order
            final DenseMatrix m = b.upload(new float[] {9, 1, 2, 3, 4, 5, 6}, 1, 2, 3);
            final float[] y = new float[4];
            b.multiplyTransposed(m, new float[] {1, 0, -1, 2, 1, 0}, 2, y, false);
            assertThat(y).containsExactly(-2, -2, 4, 13);
            final float[] z = {1, 1, 1, 1, 1, 1};
            b.multiply(m, new float[] {1, 1, 0, 2}, 2, z, true);
            assertThat(z).containsExactly(6, 8, 10, 9, 11, 13);
            final float[] g = new float[6];
            b.accumulateOuter(g, 0, 2, 3, new float[] {1, 0, 0, 2}, new float[] {1, 2, 3, 4, 5, 6}, 2);
            assertThat(g).containsExactly(1, 2, 3, 8, 10, 12);
            final float[] out = new float[3];
            b.gatherRows(new float[] {1, 2, 3, 4, 5, 6}, 0, 3, new int[] {1, 0}, new float[] {2, -1}, 0, 2, out, 0);
            assertThat(out).containsExactly(7, 8, 9);
            final float[] acc = new float[6];
            b.scatterAddRows(acc, 0, 3, new int[] {1}, null, 0, 1, new float[] {1, 2, 3}, 0);
            assertThat(acc).containsExactly(0, 0, 0, 1, 2, 3);
            final float[] dots = {-7, -7};
            b.dotRows(new float[] {1, 2, 3, 4, 5, 6}, 0, 3, new int[] {1}, 1, new float[] {1, 0, 1}, 0, dots, 0);
            assertThat(dots).containsExactly(-7, 10); // only the listed row is written
            assertThat(b.denseSpeedup(64, 1024, 1024)).isPositive();
            m.close();
            m.close(); // twice is a no-op
            assertThatThrownBy(() -> b.multiply(m, new float[2], 1, new float[3], false))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void anUploadIsACopyAndOnlyTheBackendsOwnMatricesAreAccepted(final String name) {
        try (ArrayBackend b = open(name)) {
            final float[] data = {1, 2, 3, 4};
            try (DenseMatrix m = b.upload(data, 0, 2, 2)) {
                data[0] = 100;
                final float[] y = new float[2];
                b.multiplyTransposed(m, new float[] {1, 0}, 1, y, false);
                assertThat(y).containsExactly(1, 3);
            }
            final DenseMatrix foreign = new AbstractDenseMatrix(2, 2) {
                @Override
                protected void release() {
                }
            };
            assertThatThrownBy(() -> b.multiply(foreign, new float[2], 1, new float[2], false))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * Both products against a double-precision reference: {@code |got - exact| <= 1e-5 * sum |terms| + 1e-7}, the
     * bound of an fp32 sum in any order; shapes below and above the CPU backend's BLAS threshold ({@code 2^17}).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void denseProductsMatchThePlainSumAndRepeatBitwise(final String name) {
        final int[][] shapes = {{3, 7, 5}, {16, 33, 40}, {64, 64, 64}, {32, 128, 96}};
        try (ArrayBackend b = open(name)) {
            for (final int[] s : shapes) {
                final int batch = s[0];
                final int rows = s[1];
                final int cols = s[2];
                final SplittableRandom r = new SplittableRandom(31L * rows + cols);
                final float[] w = gaussian(r, rows * cols);
                for (final boolean accumulate : new boolean[] {false, true}) {
                    try (DenseMatrix m = b.upload(w, 0, rows, cols)) {
                        final float[] x = gaussian(r, batch * cols);
                        final float[] y0 = gaussian(r, batch * rows);
                        final float[] y = y0.clone();
                        b.multiplyTransposed(m, x, batch, y, accumulate);
                        for (int e = 0; e < batch; e++) {
                            for (int i = 0; i < rows; i++) {
                                double exact = accumulate ? y0[e * rows + i] : 0;
                                double size = Math.abs(exact);
                                for (int c = 0; c < cols; c++) {
                                    exact += (double) x[e * cols + c] * w[i * cols + c];
                                    size += Math.abs((double) x[e * cols + c] * w[i * cols + c]);
                                }
                                assertThat((double) y[e * rows + i]).as("%s y=xM^T %s [%d,%d]", name,
                                        Arrays.toString(s), e, i).isCloseTo(exact,
                                        offset(1e-5 * size + 1e-7));
                            }
                        }
                        final float[] again = y0.clone();
                        b.multiplyTransposed(m, x, batch, again, accumulate);
                        assertThat(again).containsExactly(y);

                        final float[] xt = gaussian(r, batch * rows);
                        final float[] z0 = gaussian(r, batch * cols);
                        final float[] z = z0.clone();
                        b.multiply(m, xt, batch, z, accumulate);
                        for (int e = 0; e < batch; e++) {
                            for (int c = 0; c < cols; c++) {
                                double exact = accumulate ? z0[e * cols + c] : 0;
                                double size = Math.abs(exact);
                                for (int i = 0; i < rows; i++) {
                                    exact += (double) xt[e * rows + i] * w[i * cols + c];
                                    size += Math.abs((double) xt[e * rows + i] * w[i * cols + c]);
                                }
                                assertThat((double) z[e * cols + c]).as("%s z=xM %s [%d,%d]", name,
                                        Arrays.toString(s), e, c).isCloseTo(exact,
                                        offset(1e-5 * size + 1e-7));
                            }
                        }
                    }
                }
            }
        }
    }

    /** accumulateOuter sums over b in increasing order (bitwise); the block form may reorder (fp32 bound). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void outerProductsSumTheBatch(final String name) {
        final SplittableRandom r = new SplittableRandom(5);
        final int rows = 40;
        final int cols = 70;
        final int batch = 80;
        final float[] a = gaussian(r, batch * rows);
        for (int i = 0; i < a.length; i += 3) {
            a[i] = 0f; // sparse adjoints, as the learner's are
        }
        final float[] x = gaussian(r, batch * cols);
        final float[] g0 = gaussian(r, 3 + rows * cols);
        final float[] expected = g0.clone();
        for (int i = 0; i < rows; i++) {
            for (int e = 0; e < batch; e++) {
                for (int c = 0; c < cols; c++) {
                    expected[3 + i * cols + c] += a[e * rows + i] * x[e * cols + c];
                }
            }
        }
        try (ArrayBackend b = open(name)) {
            final float[] g = g0.clone();
            b.accumulateOuter(g, 3, rows, cols, a, x, batch);
            assertThat(g).containsExactly(expected);
            final float[] block = g0.clone();
            b.accumulateOuterBlock(block, 3, rows, cols, a, x, batch);
            final float[] blockAgain = g0.clone();
            b.accumulateOuterBlock(blockAgain, 3, rows, cols, a, x, batch);
            assertThat(blockAgain).containsExactly(block);
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < cols; c++) {
                    double size = Math.abs(g0[3 + i * cols + c]);
                    for (int e = 0; e < batch; e++) {
                        size += Math.abs((double) a[e * rows + i] * x[e * cols + c]);
                    }
                    assertThat((double) block[3 + i * cols + c]).isCloseTo(expected[3 + i * cols + c],
                            offset(2e-5 * size + 1e-7));
                }
            }
            assertThat(block[0]).isEqualTo(g0[0]);
        }
    }

    /** Row gathers, scatters and row dots, alone and batch-wide over shared rows, against loops written here. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void sparseRowOperationsFollowTheirDocumentedOrder(final String name) {
        final SplittableRandom r = new SplittableRandom(11);
        final int rows = 50;
        final int cols = 100; // long enough for vectorised loops, and not a multiple of a vector: tails run too
        final int batch = 9;
        final int offset = 7;
        final float[] w = gaussian(r, offset + rows * cols);
        // element e uses a sorted random subset of rows, with factors
        final int[][] ids = new int[batch][];
        final float[][] factors = new float[batch][]; // per listed row, as gatherRows takes them
        final float[][] byRow = new float[batch][]; // per row id, as SharedRows takes them
        for (int e = 0; e < batch; e++) {
            // element 3 uses no row: its output and gradient rows stay as they were
            ids[e] = e == 3 ? new int[0] : IntStream.range(0, rows).filter(i -> r.nextInt(4) == 0).toArray();
            byRow[e] = gaussian(r, rows);
            factors[e] = new float[ids[e].length];
            for (int i = 0; i < ids[e].length; i++) {
                factors[e][i] = byRow[e][ids[e][i]];
            }
        }
        final SharedRows uses = new SharedRows(rows, 4);
        for (int e = 0; e < batch; e++) {
            uses.count(ids[e], ids[e].length);
        }
        uses.layout();
        for (int e = 0; e < batch; e++) {
            uses.add(e, ids[e], ids[e].length, byRow[e], 0);
        }
        try (ArrayBackend b = open(name)) {
            final float[] gathered = gaussian(r, batch * cols);
            final float[] shared = gathered.clone();
            final float[] expected = gathered.clone();
            for (int e = 0; e < batch; e++) {
                for (int i = 0; i < ids[e].length; i++) {
                    for (int c = 0; c < cols; c++) {
                        expected[e * cols + c] += factors[e][i] * w[offset + ids[e][i] * cols + c];
                    }
                }
                b.gatherRows(w, offset, cols, ids[e], factors[e], 0, ids[e].length, gathered, e * cols);
            }
            b.gatherShared(w, offset, cols, uses, shared, cols);
            assertThat(gathered).containsExactly(expected);
            assertThat(shared).containsExactly(expected);

            final float[] unscaled = new float[cols];
            final float[] unscaledExpected = new float[cols];
            b.gatherRows(w, offset, cols, ids[0], null, 1, ids[0].length, unscaled, 0);
            for (int i = 1; i < ids[0].length; i++) {
                for (int c = 0; c < cols; c++) {
                    unscaledExpected[c] += w[offset + ids[0][i] * cols + c];
                }
            }
            assertThat(unscaled).containsExactly(unscaledExpected);

            final float[] src = gaussian(r, batch * cols);
            final float[] g0 = gaussian(r, offset + rows * cols);
            final float[] scattered = g0.clone();
            final float[] scatteredShared = g0.clone();
            final float[] scatterExpected = g0.clone();
            for (int e = 0; e < batch; e++) {
                for (int i = 0; i < ids[e].length; i++) {
                    for (int c = 0; c < cols; c++) {
                        scatterExpected[offset + ids[e][i] * cols + c] += factors[e][i] * src[e * cols + c];
                    }
                }
                b.scatterAddRows(scattered, offset, cols, ids[e], factors[e], 0, ids[e].length, src, e * cols);
            }
            b.scatterShared(scatteredShared, offset, cols, uses, src, cols);
            assertThat(scattered).containsExactly(scatterExpected);
            assertThat(scatteredShared).containsExactly(scatterExpected);

            final float[] xs = gaussian(r, batch * cols);
            final float[] dots = new float[batch * rows];
            final float[] dotsShared = new float[batch * rows];
            Arrays.fill(dots, Float.NaN);
            Arrays.fill(dotsShared, Float.NaN);
            for (int e = 0; e < batch; e++) {
                b.dotRows(w, offset, cols, ids[e], ids[e].length, xs, e * cols, dots, e * rows);
            }
            b.dotShared(w, offset, cols, uses, xs, cols, dotsShared, rows);
            assertThat(dotsShared).containsExactly(dots);
            for (int e = 0; e < batch; e++) {
                final int element = e;
                for (int i = 0; i < rows; i++) {
                    final int row = i;
                    final float got = dots[e * rows + i];
                    if (IntStream.of(ids[e]).noneMatch(id -> id == row)) {
                        assertThat(got).as("row %d of element %d is not listed", row, element).isNaN();
                        continue;
                    }
                    double exact = 0;
                    double size = 0;
                    for (int c = 0; c < cols; c++) {
                        exact += (double) w[offset + i * cols + c] * xs[e * cols + c];
                        size += Math.abs((double) w[offset + i * cols + c] * xs[e * cols + c]);
                    }
                    assertThat((double) got).isCloseTo(exact, offset(1e-5 * size + 1e-7));
                }
            }
        }
    }

    /** The window kernels sum in fp64 in slot order then storage order: bitwise the loops written here. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void windowKernelsSumInSlotAndStorageOrder(final String name) {
        final SplittableRandom r = new SplittableRandom(17);
        final int slots = 6;
        final int d = 300;
        final int[][] idx = new int[slots][];
        final float[][] val = new float[slots][];
        for (int s = 0; s < slots; s++) {
            idx[s] = IntStream.range(0, d).filter(i -> r.nextInt(5) == 0).toArray();
            val[s] = gaussian(r, idx[s].length);
        }
        final WindowKernels.SparseRows rows = new WindowKernels.SparseRows() {
            @Override
            public int slots() {
                return slots;
            }

            @Override
            public int count(final int slot) {
                return idx[slot].length;
            }

            @Override
            public int index(final int slot, final int j) {
                return idx[slot][j];
            }

            @Override
            public float value(final int slot, final int j) {
                return val[slot][j];
            }
        };
        final double[] x = r.doubles(d, -1, 1).toArray();
        final double[] alpha = r.doubles(slots, -1, 1).toArray();
        final double[] acc0 = r.doubles(d, -1, 1).toArray();
        final double[] dotsExpected = new double[slots];
        final double[] accExpected = acc0.clone();
        for (int s = 0; s < slots; s++) {
            for (int j = 0; j < idx[s].length; j++) {
                dotsExpected[s] += val[s][j] * x[idx[s][j]];
                accExpected[idx[s][j]] += alpha[s] * val[s][j];
            }
        }
        try (ArrayBackend b = open(name)) {
            final WindowKernels k = b.windowKernels();
            final double[] dots = new double[slots];
            k.dots(rows, x, dots);
            assertThat(dots).containsExactly(dotsExpected);
            final double[] acc = acc0.clone();
            k.addCombination(rows, alpha, acc);
            assertThat(acc).containsExactly(accExpected);
        }
    }
}
