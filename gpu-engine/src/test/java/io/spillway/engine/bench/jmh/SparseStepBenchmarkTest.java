package io.spillway.engine.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The benchmark compares like with like: its sparse and dense steps compute the same current and gradient. */
class SparseStepBenchmarkTest {

    @ParameterizedTest
    @ValueSource(doubles = {0.01, 0.05, 0.20})
    void sparseAndDenseStepsComputeTheSameProducts(final double activity) {
        final SparseStepBenchmark sparse = state(activity);
        final SparseStepBenchmark dense = state(activity);
        try {
            final float[] a = sparse.sparse().clone();
            final float[] b = dense.dense().clone();
            assertThat(a).usingElementComparator((x, y) -> Math.abs(x - y) <= 1e-4f ? 0 : 1).containsExactly(b);
            assertThat(a).isNotEqualTo(new float[a.length]); // the spikes did select rows
            for (int i = 0; i < sparse.gradient.length; i += 997) {
                assertThat(sparse.gradient[i]).isCloseTo(dense.gradient[i], within(1e-4f));
            }
        } finally {
            sparse.tearDown();
            dense.tearDown();
        }
    }

    private static SparseStepBenchmark state(final double activity) {
        final SparseStepBenchmark s = new SparseStepBenchmark();
        s.activity = activity;
        s.setUp();
        return s;
    }
}
