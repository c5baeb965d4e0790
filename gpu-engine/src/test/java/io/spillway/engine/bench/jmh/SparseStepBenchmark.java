package io.spillway.engine.bench.jmh;

import io.spillway.engine.backend.DenseMatrix;
import io.spillway.engine.backend.cpu.CpuBackend;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The recurrent part of one LIF step, forward and backward, on the CPU backend: the input current
 * {@code W_rec^T S_{t-1}} and the weight gradient {@code S_{t-1} dA^T}, for N = 1024 and a batch of 16.
 * {@link #sparse} gathers and scatters only the rows of the neurons that spiked (what the engine runs);
 * {@link #dense} computes the same two products with 0/1 spike vectors through OpenBLAS (gemm and the outer
 * product). Both give the same values up to summation order (checked by {@code SparseStepBenchmarkTest}).
 * Run with {@code gpu-engine/scripts/checkpoint-bench.sh} (part of checkpointing.json), not in CI.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// the fork inherits the host JVM's flags (jvm.options, through run-bench.sh) and only narrows the heap
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
public class SparseStepBenchmark {
    static final int N = 1024;
    static final int BATCH = 16;

    /** Fraction of the N neurons that spiked in each batch element. */
    @Param({"0.01", "0.05", "0.20"})
    public double activity;

    CpuBackend backend;
    float[] weights;
    DenseMatrix weightMatrix;
    float[] gradient;
    float[] adjoint;
    int[][] spikeIds;
    float[] spikes;
    float[] current;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend();
        final SplittableRandom r = new SplittableRandom(5);
        weights = new float[N * N];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) r.nextGaussian() * 0.03f;
        }
        weightMatrix = backend.upload(weights, 0, N, N);
        gradient = new float[N * N];
        adjoint = new float[BATCH * N];
        for (int i = 0; i < adjoint.length; i++) {
            adjoint[i] = (float) r.nextGaussian();
        }
        final int k = (int) Math.round(activity * N);
        spikeIds = new int[BATCH][];
        spikes = new float[BATCH * N];
        for (int b = 0; b < BATCH; b++) {
            spikeIds[b] = r.ints(0, N).distinct().limit(k).sorted().toArray();
            for (final int id : spikeIds[b]) {
                spikes[b * N + id] = 1f;
            }
        }
        current = new float[BATCH * N];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weightMatrix.close();
        backend.close();
    }

    /** Row gather of the spiking neurons' weights, then their gradient rows scatter-added. */
    @Benchmark
    public float[] sparse() {
        Arrays.fill(current, 0f);
        for (int b = 0; b < BATCH; b++) {
            backend.gatherRows(weights, 0, N, spikeIds[b], null, 0, spikeIds[b].length, current, b * N);
        }
        for (int b = 0; b < BATCH; b++) {
            backend.scatterAddRows(gradient, 0, N, spikeIds[b], null, 0, spikeIds[b].length, adjoint, b * N);
        }
        return current;
    }

    /** The same products with dense 0/1 spike vectors: gemm for the current, outer product for the gradient. */
    @Benchmark
    public float[] dense() {
        backend.multiply(weightMatrix, spikes, BATCH, current, false);
        backend.accumulateOuter(gradient, 0, N, N, spikes, adjoint, BATCH);
        return current;
    }
}
