package io.spillway.engine;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.Backends;
import io.spillway.engine.internals.SpikingLearner;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.optim.Optimizers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/** Makes {@link Learner}s. Thread-safe (stateless). */
public final class Learners {

    private Learners() {
    }

    /**
     * A spiking-RNN learner for {@code config}: the backend is selected with {@link Backends#select(String)}
     * (logged fallback for {@code auto}), parameters are initialised from the seed.
     *
     * @param config never null
     * @return a new learner; the caller owns it and must close it
     * @throws IllegalArgumentException for an optimizer or checkpoint schedule this build does not have yet
     * @throws io.spillway.engine.backend.BackendUnavailableException if an explicitly named backend cannot run
     */
    public static Learner create(final LearnerConfig config) {
        Objects.requireNonNull(config, "config");
        final String schedule = config.checkpointSchedule().toLowerCase(Locale.ROOT);
        if (!java.util.Set.of("auto", "bptt", "uniform", "remote", "double").contains(schedule)) {
            throw new IllegalArgumentException("unknown checkpoint schedule '" + config.checkpointSchedule()
                    + "': expected auto, bptt, uniform, remote or double");
        }
        Optimizers.create(config.optimizer(), config.learningRate(), null, null); // fail fast on a bad name
        // one accountant for the learner and its backend, so the device budget and peak include a GPU's matrices
        final MemoryAccountant accountant = SpikingLearner.accountantFor(config);
        final ArrayBackend backend = Backends.select(config.backend(), accountant);
        return new SpikingLearner(config, backend, accountant, shapes -> Optimizers.create(config.optimizer(),
                config.learningRate(), null, shapes, backend.windowKernels()));
    }

    /** What a {@link #warmUp} did. */
    public record WarmUp(int steps, long events, Duration took) {
    }

    /**
     * Trains a throwaway learner of {@code config} on synthetic events (uniform types; a few random features when
     * the config has features) in steps of {@code batchKeys} chunks of {@code chunkLength} events, until
     * {@code budget} has passed (at least one step unless the budget is zero). It runs the code a stream's training
     * runs, so the JIT compiles the engine's kernels before anything competes for the CPU: in a streaming
     * app on a small machine the broker, Kafka Streams and the clients keep the compiler's queue full for a long
     * time, and the kernels wait in it, running unoptimised. The learner is closed afterwards; no other learner's
     * model or state is touched.
     *
     * @return steps and events trained and the time taken
     * @throws IllegalArgumentException for a negative budget or non-positive sizes, or what {@link #create} throws
     */
    public static WarmUp warmUp(final LearnerConfig config, final int chunkLength, final int batchKeys,
                                final Duration budget) {
        Objects.requireNonNull(config, "config");
        if (budget.isNegative() || chunkLength <= 0 || batchKeys <= 0) {
            throw new IllegalArgumentException("warm-up needs a budget >= 0 and positive sizes: " + budget + ", "
                    + chunkLength + " events per chunk, " + batchKeys + " keys per step");
        }
        final long started = System.nanoTime();
        if (budget.isZero()) {
            return new WarmUp(0, 0, Duration.ZERO);
        }
        final long deadline = started + budget.toNanos();
        final SplittableRandom random = new SplittableRandom(config.seed());
        int steps = 0;
        long events = 0;
        try (Learner learner = create(config)) {
            do {
                final List<SequenceChunk> batch = new ArrayList<>(batchKeys);
                for (int k = 0; k < batchKeys; k++) {
                    final List<SparseEvent> chunk = new ArrayList<>(chunkLength);
                    for (int t = 0; t < chunkLength; t++) {
                        chunk.add(syntheticEvent(config, random));
                    }
                    batch.add(new SequenceChunk("warm-up-" + k, chunk));
                }
                learner.train(batch);
                steps++;
                events += (long) batchKeys * chunkLength;
            } while (System.nanoTime() < deadline);
        }
        return new WarmUp(steps, events, Duration.ofNanos(System.nanoTime() - started));
    }

    private static SparseEvent syntheticEvent(final LearnerConfig config, final SplittableRandom random) {
        final int type = random.nextInt(config.vocabularySize());
        final int dimension = config.featureDimension();
        if (dimension == 0) {
            return SparseEvent.ofType(type);
        }
        // a few distinct indices, increasing: a stride walk from a random start
        final int n = Math.min(4, dimension);
        final int[] idx = new int[n];
        final float[] val = new float[n];
        final int stride = Math.max(1, dimension / n);
        final int start = random.nextInt(stride);
        for (int i = 0; i < n; i++) {
            idx[i] = start + i * stride;
            val[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return new SparseEvent(type, idx, val, SparseEvent.NO_LABEL);
    }

}
