package io.spillway.app.replay;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import java.time.Duration;
import java.util.Locale;

/**
 * A quick prequential run of one learner setting on a real corpus, engine only (no broker), for comparing cells
 * and their knobs: {@code CellSweep <dataset> <events> key=value ...}, keys being {@code cell, hidden, layers,
 * optimizer, lr, clip, thresholdMean, kappa, activityTarget, lambda, candidateBias, readout, learnThresholds}. The
 * stream is the realdata benchmark's (16 documents open, documents of at least 4096 characters, seed 1), trained
 * in chunks of 64 events, 16 keys per step. Prints one line of figures.
 */
public final class CellSweep {

    private CellSweep() {
    }

    public static void main(final String[] args) throws Exception {
        final RealDataset ds = RealDataset.byId(args[0]);
        final long events = Long.parseLong(args[1]);
        final LearnerConfig.Builder b = LearnerConfig.builder().vocabularySize(CharacterVocabulary.SIZE)
                .featureDimension(0).hiddenSize(128).backend("cpu").seed(42);
        final StringBuilder label = new StringBuilder();
        for (int i = 2; i < args.length; i++) {
            final String[] kv = args[i].split("=", 2);
            label.append(args[i]).append(' ');
            switch (kv[0]) {
                case "cell" -> b.cell(kv[1]);
                case "hidden" -> b.hiddenSize(Integer.parseInt(kv[1]));
                case "layers" -> b.layers(Integer.parseInt(kv[1]));
                case "optimizer" -> b.optimizer(kv[1]);
                case "lr" -> b.learningRate(Float.parseFloat(kv[1]));
                case "clip" -> b.gradientClip(Float.parseFloat(kv[1]));
                case "thresholdMean" -> b.thresholdMean(Float.parseFloat(kv[1]));
                case "kappa" -> b.pseudoDerivativeScale(Float.parseFloat(kv[1]));
                case "activityTarget" -> b.activityTarget(Float.parseFloat(kv[1]));
                case "lambda" -> b.activityRegularization(Float.parseFloat(kv[1]));
                case "candidateBias" -> b.candidateBias(Float.parseFloat(kv[1]));
                case "readout" -> b.readout(kv[1]);
                case "learnThresholds" -> b.learnThresholds(Boolean.parseBoolean(kv[1]));
                default -> throw new IllegalArgumentException("unknown key " + kv[0]);
            }
        }
        final LearnerConfig config = b.build();
        Learners.warmUp(config, 64, 16, Duration.ofSeconds(Long.getLong("sweep.warmUpSeconds", 3)));
        final InterleavedDocuments stream = new InterleavedDocuments(ds.documents(), 16, 4096, 1);
        final PrequentialEvaluation.Result r;
        final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        final long cpu0 = threads.getCurrentThreadCpuTime();
        try (Learner learner = Learners.create(config)) {
            r = new PrequentialEvaluation(64, 16).run(learner, stream, events, null);
        }
        final double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
        // on a shared machine wall-clock rates swing with the load; the trainer thread's CPU time does not
        System.out.println(String.format(Locale.ROOT, "SWEEP %s events=%d bits/event=%.4f activity=%.3f "
                + "events/s=%.0f events/cpu-s=%.0f diverged=%d lr=%s", label.toString().trim(), r.events(),
                r.bitsPerEvent(), r.activity(), r.trainedEventsPerSecond(), r.targets() / cpuSeconds,
                r.divergedSteps(), config.learningRate()));
    }
}
