package io.spillway.engine.bench.jmh;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/** Runs {@link SparseStepBenchmark} through JMH and turns its scores into benchmark-result figures. */
public final class SparseStepJmh {
    private SparseStepJmh() {
    }

    /**
     * @return per activity {@code p} (1, 5, 20 percent): {@code sparse_step_us_<p>pct}, {@code dense_step_us_<p>pct},
     *     their errors (99.9% confidence half-widths) and {@code sparse_step_speedup_<p>pct} (dense / sparse)
     */
    public static Map<String, Object> run() throws RunnerException {
        final Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(SparseStepBenchmark.class.getName()).build()).run();
        final Map<String, Map<String, double[]>> byActivity = new LinkedHashMap<>();
        for (final RunResult r : results) {
            final String activity = r.getParams().getParam("activity");
            final String method = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            byActivity.computeIfAbsent(activity, a -> new LinkedHashMap<>()).put(method,
                    new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
        }
        final Map<String, Object> figures = new LinkedHashMap<>();
        byActivity.forEach((activity, m) -> {
            final String pct = Integer.toString((int) Math.round(Double.parseDouble(activity) * 100));
            final double[] sparse = m.get("sparse");
            final double[] dense = m.get("dense");
            figures.put("sparse_step_us_" + pct + "pct", round(sparse[0]));
            figures.put("sparse_step_us_error_" + pct + "pct", round(sparse[1]));
            figures.put("dense_step_us_" + pct + "pct", round(dense[0]));
            figures.put("dense_step_us_error_" + pct + "pct", round(dense[1]));
            figures.put("sparse_step_speedup_" + pct + "pct", round(dense[0] / sparse[0]));
        });
        figures.put("sparse_step_shape", "JMH (1 fork, 3 x 1 s warm-up, 5 x 1 s measured, average time): recurrent "
                + "input + its weight gradient, N 1024, batch 16 (dense: OpenBLAS gemm and outer product; sparse: row "
                + "gather and scatter of spiking neurons)");
        return figures;
    }

    private static double round(final double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    public static void main(final String[] args) throws RunnerException {
        run().forEach((k, v) -> System.out.println(k + " = " + v));
    }
}
