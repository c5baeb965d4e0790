package io.spillway.engine.backend.cuda;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * The spiking learner end to end (train steps: forward, checkpointed backward, optimizer) on the CPU backend
 * and on the CUDA path side by side, interleaved, on the same batches: hidden 1024, one layer, 16 keys x 64
 * events per step, Adam. Writes flat JSON figures for gpu.json. Not a test: run by {@code gpu-check.sh run}.
 */
public final class LearnerGpuBenchmark {
    private LearnerGpuBenchmark() {
    }

    public static void main(final String[] args) throws IOException {
        final Path out = Path.of(args.length > 0 ? args[0] : "gpu-learner.json");
        final List<List<SequenceChunk>> batches = batches(12, 16, 64, 7L);
        final String[] backends = {"cpu", "cuda"};
        final double[][] seconds = new double[backends.length][];
        final Map<String, Object> figures = new LinkedHashMap<>();
        final Learner[] learners = new Learner[backends.length];
        try {
            for (int k = 0; k < backends.length; k++) {
                learners[k] = Learners.create(LearnerConfig.builder().cell("lif").vocabularySize(64).featureDimension(16)
                        .hiddenSize(1024).layers(1).optimizer("adam").backend(backends[k]).seed(3L).build());
                seconds[k] = new double[batches.size()];
            }
            for (int s = 0; s < batches.size(); s++) {
                for (int k = 0; k < backends.length; k++) {
                    final long start = System.nanoTime();
                    learners[k].train(batches.get(s));
                    seconds[k][s] = (System.nanoTime() - start) / 1e9;
                }
            }
            figures.put("learner_model", "LIF hidden 1024, 1 layer, vocabulary 64 + 16 features, Adam, 16 keys x 64 "
                    + "events per step; cpu = the CPU backend in the GPU kit (no ND4J: Java loops for dense products)");
            figures.put("learner_cuda_device", learners[1].describe());
            final double events = 16 * 64;
            for (int k = 0; k < backends.length; k++) {
                final double[] measured = Arrays.copyOfRange(seconds[k], 2, seconds[k].length); // 2 warm-up steps
                Arrays.sort(measured);
                figures.put("learner_events_per_s_" + backends[k], Math.round(events / measured[measured.length / 2]));
            }
            figures.put("learner_speedup_cuda_vs_cpu", Math.round(100.0 * (long) figures.get("learner_events_per_s_cuda")
                    / (long) figures.get("learner_events_per_s_cpu")) / 100.0);
        } finally {
            for (final Learner l : learners) {
                if (l != null) {
                    l.close();
                }
            }
        }
        final String json = figures.entrySet().stream().map(e -> "  \"" + e.getKey() + "\": "
                + (e.getValue() instanceof String str ? "\"" + str.replace("\"", "'") + "\"" : e.getValue()))
                .collect(Collectors.joining(",\n", "{\n", "\n}\n"));
        Files.writeString(out, json);
        System.out.printf(Locale.ROOT, "%s", json);
    }

    private static List<List<SequenceChunk>> batches(final int count, final int keys, final int length,
                                                     final long seed) {
        final SplittableRandom r = new SplittableRandom(seed);
        final List<List<SequenceChunk>> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            final List<SequenceChunk> batch = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < length; i++) {
                    ev.add(new SparseEvent(r.nextInt(64), new int[] {r.nextInt(16)}, new float[] {(float) r.nextGaussian()},
                            SparseEvent.NO_LABEL));
                }
                batch.add(new SequenceChunk("key-" + k, ev));
            }
            out.add(batch);
        }
        return out;
    }
}
