package io.spillway.engine.bench;

import io.spillway.engine.LearnerConfig;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.backend.cpu.CpuBackend;
import io.spillway.engine.internals.SpikingLearner;
import io.spillway.engine.optim.Adam;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trained events per second of the CPU spiking learner (full BPTT, Adam) at hidden 128 and 256, with the
 * dense products on Java loops only and with the default Java/OpenBLAS split, measured side by side, and at
 * hidden 256 with the theta2 surrogate gate (sparse backward).
 * Not a test: run with {@code gpu-engine/scripts/learner-bench.sh [out.json]}.
 */
public final class LearnerThroughputBenchmark {
    private static final int VOCAB = 32;
    private static final int FEATURES = 16;
    private static final int KEYS = 16;
    private static final int CHUNK = 64;

    private LearnerThroughputBenchmark() {
    }

    public static void main(final String[] args) throws IOException {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/engine-learner-throughput.json");
        final Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("keys_per_batch", KEYS);
        figures.put("events_per_chunk", CHUNK);
        figures.put("vocabulary", VOCAB);
        figures.put("features", FEATURES);
        for (final int layers : new int[] {1, 2}) {
            for (final int hidden : new int[] {128, 256}) {
                final String name = "h" + hidden + "_l" + layers;
                final double java = run(hidden, layers, Long.MAX_VALUE, figures, name + "_java");
                final double split = run(hidden, layers, -1, figures, name + "_default");
                figures.put(name + "_default_over_java", round(split / java));
            }
        }
        // the theta2 surrogate gate (0.9): the backward pass forms spike adjoints only for gated neurons
        for (final int layers : new int[] {1, 2}) {
            final String name = "h256_l" + layers;
            final double gated = run(256, layers, -1, 0.9f, figures, name + "_theta2");
            figures.put(name + "_theta2_over_default", round(gated / ((Number) figures.get(name
                    + "_default_trained_events_per_s")).doubleValue()));
        }
        BenchResults.write(out, "engine-learner-throughput", "gpu-engine/scripts/learner-bench.sh", figures);
    }

    /** Returns trained events per second and records the figures under {@code prefix}. */
    private static double run(final int hidden, final int layers, final long blasThreshold,
                              final Map<String, Object> figures, final String prefix) {
        return run(hidden, layers, blasThreshold, Float.NEGATIVE_INFINITY, figures, prefix);
    }

    private static double run(final int hidden, final int layers, final long blasThreshold, final float theta2,
                              final Map<String, Object> figures, final String prefix) {
        final LearnerConfig cfg = LearnerConfig.builder().cell("lif").vocabularySize(VOCAB).featureDimension(FEATURES)
                .hiddenSize(hidden).layers(layers).learningRate(1e-3f).theta2(theta2).seed(1L).build();
        final CpuBackend backend = blasThreshold < 0 ? new CpuBackend() : new CpuBackend(blasThreshold);
        try (SpikingLearner learner = new SpikingLearner(cfg, backend, new Adam(cfg.learningRate()))) {
            final Random rnd = new Random(7L);
            final int[] cur = new int[KEYS];
            for (int i = 0; i < 4; i++) {
                learner.train(batch(rnd, cur));
            }
            long events = 0;
            int calls = 0;
            double loss = 0;
            final long start = System.nanoTime();
            while (System.nanoTime() - start < 4_000_000_000L || calls < 5) {
                final TrainingStep step = learner.train(batch(rnd, cur));
                events += step.targets();
                loss += step.lossSum();
                calls++;
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            final double rate = events / seconds;
            figures.put(prefix + "_trained_events_per_s", Math.round(rate));
            figures.put(prefix + "_ms_per_train_call", round(1000 * seconds / calls));
            figures.put(prefix + "_mean_loss", round(loss / events));
            figures.put(prefix + "_spike_activity", round(learner.spikeActivity()));
            figures.put(prefix + "_peak_device_bytes", learner.accountant().peakBytes(
                    io.spillway.engine.memory.MemoryTier.DEVICE));
            System.err.printf("%s: %.0f trained events/s (%d calls)%n", prefix, rate, calls);
            return rate;
        }
    }

    /** A Markov chain of event types per key with two sparse features per event. */
    private static List<SequenceChunk> batch(final Random rnd, final int[] cur) {
        final List<SequenceChunk> out = new ArrayList<>(KEYS);
        for (int k = 0; k < KEYS; k++) {
            final List<SparseEvent> ev = new ArrayList<>(CHUNK);
            for (int i = 0; i < CHUNK; i++) {
                cur[k] = rnd.nextInt(5) == 0 ? rnd.nextInt(VOCAB) : (cur[k] * 7 + 3) % VOCAB;
                final int f = rnd.nextInt(FEATURES - 1);
                ev.add(new SparseEvent(cur[k], new int[] {f, f + 1},
                        new float[] {(float) rnd.nextGaussian(), 1f}, SparseEvent.NO_LABEL));
            }
            out.add(new SequenceChunk("key-" + k, ev));
        }
        return out;
    }

    private static double round(final double v) {
        return BenchResults.round(v);
    }
}
