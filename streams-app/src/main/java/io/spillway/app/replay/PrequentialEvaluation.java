package io.spillway.app.replay;

import io.spillway.engine.Learner;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.schemas.avro.Event;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Prequential ("predict, then learn") evaluation of a {@link Learner} on an event stream, without a
 * broker: events are assembled into per-key chunks of {@code chunkLength} events the way the streams app
 * does, and complete chunks of distinct keys are trained {@code batchKeys} at a time. Each
 * {@link Learner#train} measures the loss and accuracy of every target before its update, so the sums over
 * the run are the prequential figures. At the end of the stream, partial chunks are trained too.
 *
 * <p>Not thread-safe; the learner is used from the calling thread only and stays the caller's.
 */
public final class PrequentialEvaluation {
    private static final double LN2 = Math.log(2);

    /** Sees each batch just before it is trained (e.g. to export the exact schedule for a peer). */
    @FunctionalInterface
    public interface BatchListener {
        void beforeTrain(List<SequenceChunk> batch);
    }

    /**
     * Figures of one run.
     *
     * @param events events read from the stream
     * @param targets events predicted and learned (a key's first event only primes its state)
     * @param lossSumNats sum of the targets' cross-entropy, nats, each measured before learning from it
     * @param correct targets whose arg-max prediction was right
     * @param trainSeconds time inside {@link Learner#train}
     * @param wallSeconds time of the whole run, reading the stream included
     * @param steps optimizer steps
     * @param divergedSteps steps rolled back as non-finite
     * @param firstStepLossNats mean loss of the first step (untrained model), NaN if none
     * @param activity mean fraction of units emitting per step (spikes or EGRU events), weighted by the steps'
     *     targets; NaN if none
     */
    public record Result(long events, long targets, double lossSumNats, long correct, double trainSeconds,
                         double wallSeconds, long steps, long divergedSteps, double firstStepLossNats,
                         double activity, double predictionLossSumNats, long predictionsCorrect) {
        /** Mean prequential log loss per target, nats. */
        public double meanLossNats() {
            return targets == 0 ? Double.NaN : lossSumNats / targets;
        }

        /** Mean prequential log loss per target, bits. */
        public double bitsPerEvent() {
            return meanLossNats() / LN2;
        }

        public double accuracy() {
            return targets == 0 ? Double.NaN : (double) correct / targets;
        }

        /**
         * Mean log loss per target of the published predictions, bits: with a prediction mixture the mixture's
         * (the network alone is {@link #bitsPerEvent}), else the network's as its predictions carry it.
         */
        public double predictionBitsPerEvent() {
            return targets == 0 ? Double.NaN : predictionLossSumNats / targets / LN2;
        }

        /** Fraction of the published predictions whose class was right. */
        public double predictionAccuracy() {
            return targets == 0 ? Double.NaN : (double) predictionsCorrect / targets;
        }

        /** Trained events (targets) per second of training time. */
        public double trainedEventsPerSecond() {
            return trainSeconds == 0 ? Double.NaN : targets / trainSeconds;
        }
    }

    private final int chunkLength;
    private final int batchKeys;

    /**
     * @param chunkLength events per chunk, at least 1
     * @param batchKeys chunks (of distinct keys) per training step, at least 1
     */
    public PrequentialEvaluation(final int chunkLength, final int batchKeys) {
        if (chunkLength < 1 || batchKeys < 1) {
            throw new IllegalArgumentException("chunkLength and batchKeys must be >= 1: " + chunkLength + ", " + batchKeys);
        }
        this.chunkLength = chunkLength;
        this.batchKeys = batchKeys;
    }

    /**
     * Runs the evaluation.
     *
     * @param learner trained in place; never null
     * @param events the stream; read until it ends or {@code limit} events (0: no limit)
     * @param listener may be null
     */
    public Result run(final Learner learner, final Iterator<Event> events, final long limit, final BatchListener listener) {
        Objects.requireNonNull(learner, "learner");
        Objects.requireNonNull(events, "events");
        final Run run = new Run(learner, listener);
        final long start = System.nanoTime();
        final Map<String, List<SparseEvent>> open = new LinkedHashMap<>();
        long read = 0;
        while (events.hasNext() && (limit <= 0 || read < limit)) {
            final Event e = events.next();
            read++;
            final List<SparseEvent> chunk = open.computeIfAbsent(e.getEntityId(), k -> new ArrayList<>(chunkLength));
            chunk.add(io.spillway.app.topology.SparseEvents.of(e));
            if (chunk.size() == chunkLength) {
                run.ready(new SequenceChunk(e.getEntityId(), chunk));
                open.remove(e.getEntityId());
            }
        }
        for (final Map.Entry<String, List<SparseEvent>> rest : open.entrySet()) {
            run.ready(new SequenceChunk(rest.getKey(), rest.getValue()));
        }
        run.flush();
        return new Result(read, run.targets, run.lossSum, run.correct, run.trainNanos / 1e9,
                (System.nanoTime() - start) / 1e9, run.steps, run.diverged, run.firstLoss,
                run.activityTargets == 0 ? Double.NaN : run.activitySum / run.activityTargets, run.predictionLossSum,
                run.predictionsCorrect);
    }

    private final class Run {
        final Learner learner;
        final BatchListener listener;
        final LinkedHashMap<String, SequenceChunk> ready = new LinkedHashMap<>();
        long targets;
        double lossSum;
        long correct;
        double predictionLossSum;
        long predictionsCorrect;
        long trainNanos;
        long steps;
        long diverged;
        double firstLoss = Double.NaN;
        double activitySum;
        long activityTargets;

        Run(final Learner learner, final BatchListener listener) {
            this.learner = learner;
            this.listener = listener;
        }

        void ready(final SequenceChunk chunk) {
            if (ready.containsKey(chunk.key())) {
                flush(); // a key's next chunk must not be trained before (or with) its previous one
            }
            ready.put(chunk.key(), chunk);
            if (ready.size() == batchKeys) {
                flush();
            }
        }

        void flush() {
            if (ready.isEmpty()) {
                return;
            }
            final List<SequenceChunk> batch = List.copyOf(ready.values());
            ready.clear();
            if (listener != null) {
                listener.beforeTrain(batch);
            }
            final long t0 = System.nanoTime();
            final TrainingStep step = learner.train(batch);
            trainNanos += System.nanoTime() - t0;
            if (step.targets() > 0) {
                if (steps == 0) {
                    firstLoss = step.meanLoss();
                }
                steps++;
            }
            targets += step.targets();
            if (!Double.isNaN(step.activity()) && step.targets() > 0) {
                activitySum += step.activity() * step.targets();
                activityTargets += step.targets();
            }
            lossSum += step.lossSum();
            correct += step.correct();
            predictionLossSum += step.predictionLossSum();
            predictionsCorrect += step.predictionsCorrect();
            if (step.diverged()) {
                diverged++;
            }
        }
    }
}
