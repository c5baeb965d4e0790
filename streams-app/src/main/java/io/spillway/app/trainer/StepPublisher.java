package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.MemoryReport;
import io.spillway.engine.Prediction;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.avro.TrainingMetrics;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * What a trainer publishes, whichever way the training is shared: per step the deltas (split into records
 * under the broker's size limit), one prediction per trained target, the metrics record and the figures the
 * operations endpoint shows (with the trained-events rate over the last five seconds); now and then a snapshot.
 *
 * <p>Threading: {@link #figures} on the trainer thread, between steps (it reads the learner); the rest on one thread
 * at a time (the trainer's, or the one it hands its publishing to).
 */
final class StepPublisher {
    private final Learner learner;
    private final TrainingSink sink;
    private final Topics topics;
    private final TrainerSettings settings;
    private final LongSupplier consumerLag;
    private final LongSupplier deadLettered;
    private final Deque<long[]> rateWindow = new ArrayDeque<>();
    /** The user's categories of event type ids (a dictionary vocabulary). */
    private final CategoryNames categories;

    StepPublisher(final Learner learner, final TrainingSink sink, final Topics topics, final TrainerSettings settings,
                  final LongSupplier consumerLag, final LongSupplier deadLettered,
                  final CategoryNames categories) {
        this.categories = categories;
        this.learner = learner;
        this.sink = sink;
        this.topics = topics;
        this.settings = settings;
        this.consumerLag = consumerLag;
        this.deadLettered = deadLettered;
    }

    /** Publishes {@code deltas} as the update from {@code baseVersion} to {@code version} by {@code instance}. */
    void publishDeltas(final List<TensorDelta> deltas, final String instance, final long baseVersion,
                       final long version, final long now) {
        for (final TensorDelta delta : deltas) {
            final int n = delta.indices().length;
            final int chunkCount = Math.max(1, (n + settings.maxDeltaEntries() - 1) / settings.maxDeltaEntries());
            for (int c = 0; c < chunkCount; c++) {
                final int from = c * settings.maxDeltaEntries();
                final int to = Math.min(n, from + settings.maxDeltaEntries());
                final ModelDelta record = ModelDelta.newBuilder()
                        .setModelId(settings.modelId()).setInstanceId(instance)
                        .setVersion(version).setBaseVersion(baseVersion)
                        .setTensor(delta.tensor()).setTensorSize(delta.size())
                        .setChunkIndex(c).setChunkCount(chunkCount)
                        .setUpdate(sparse(Arrays.copyOfRange(delta.indices(), from, to),
                                Arrays.copyOfRange(delta.values(), from, to)))
                        .setCreatedAtMs(now).build();
                sink.send(topics.deltas(), settings.modelId(), record);
            }
        }
    }

    /** One prediction record per trained target, keyed by entity. */
    void publishPredictions(final TrainingStep step, final List<TimedChunk> batch) {
        final Map<String, TimedChunk> byKey = new HashMap<>();
        for (final TimedChunk c : batch) {
            byKey.put(c.key(), c);
        }
        final List<Prediction> predictions = step.predictions();
        final int[] ids = new int[2 * predictions.size()];
        for (int i = 0; i < predictions.size(); i++) {
            ids[2 * i] = predictions.get(i).predictedType();
            ids[2 * i + 1] = predictions.get(i).actualType();
        }
        final String[] names = categories.of(ids);
        for (int i = 0; i < predictions.size(); i++) {
            final Prediction p = predictions.get(i);
            sink.send(topics.predictions(), p.key(), io.spillway.schemas.avro.Prediction.newBuilder()
                    .setEntityId(p.key()).setModelVersion(step.baseVersion())
                    .setAfterTimestampMs(seenAt(byKey.get(p.key()), p))
                    .setPredictedEventType(p.predictedType()).setProbability(p.probability())
                    .setActualEventType(p.actualType() < 0 ? null : p.actualType())
                    .setPredictedCategory(names[2 * i])
                    .setActualCategory(p.actualType() < 0 ? null : names[2 * i + 1]).build());
        }
    }

    /**
     * Event time of the last event the prediction saw: the target event itself for an explicit label, else the
     * event before the target (the previous chunk's last one for the first target of a chunk).
     */
    static long seenAt(final TimedChunk chunk, final Prediction p) {
        if (chunk == null || chunk.size() == 0) {
            return -1;
        }
        final int target = Math.max(0, Math.min(p.stepInChunk(), chunk.size() - 1));
        final SparseEvent targetEvent = chunk.chunk().events().get(target);
        if (targetEvent.label() != SparseEvent.NO_LABEL && targetEvent.label() == p.actualType()) {
            return chunk.timestampsMs()[target];
        }
        return target > 0 ? chunk.timestampsMs()[target - 1] : chunk.previousTimestampMs();
    }

    /**
     * Publishes {@code state} as snapshot {@code version} of the model, in records of at most the configured
     * chunk size under the keys {@code modelId/version/chunk}; returns the number of records.
     */
    int publishSnapshot(final long version, final String format, final byte[] state, final long now) {
        final String sha = SnapshotReader.sha256(state);
        final int size = settings.snapshotChunkBytes();
        final int count = snapshotRecords(state.length);
        for (int c = 0; c < count; c++) {
            final int from = c * size;
            final int to = Math.min(state.length, from + size);
            sink.send(topics.snapshots(), snapshotKey(version, c), ModelSnapshotChunk.newBuilder()
                    .setModelId(settings.modelId()).setInstanceId(settings.instanceId()).setVersion(version)
                    .setFormat(format).setChunkIndex(c).setChunkCount(count)
                    .setTotalBytes(state.length).setSha256(sha).setPayload(ByteBuffer.wrap(state, from, to - from))
                    .setCreatedAtMs(now).build());
        }
        return count;
    }

    /** Records a snapshot of {@code bytes} takes. */
    int snapshotRecords(final int bytes) {
        return Math.max(1, (bytes + settings.snapshotChunkBytes() - 1) / settings.snapshotChunkBytes());
    }

    /** Tombstones the records of snapshot {@code version}, so the compacted topic drops them. */
    void retireSnapshot(final long version, final int chunks) {
        for (int c = 0; c < chunks; c++) {
            sink.delete(topics.snapshots(), snapshotKey(version, c));
        }
    }

    /** Key of a snapshot chunk, as the ModelSnapshotChunk schema specifies: {@code modelId/version/chunkIndex}. */
    private String snapshotKey(final long version, final int chunk) {
        return settings.modelId() + "/" + version + "/" + chunk;
    }

    /**
     * Publishes the step's metrics record and returns its figures.
     *
     * @param eventsTotal events in the model so far
     * @param queueDepth chunk-log entries not trained yet
     */
    TrainingFigures publishMetrics(final TrainingStep step, final int events, final long eventsTotal,
                                   final int queueDepth, final long now) {
        final TrainingFigures figures = figures(step, eventsTotal, queueDepth, now);
        publishMetrics(step, figures, events);
        return figures;
    }

    /** Publishes the metrics record of {@code figures} (from {@link #figures}); any thread, one at a time. */
    void publishMetrics(final TrainingStep step, final TrainingFigures figures, final int events) {
        sink.send(topics.metrics(), settings.modelId(), metricsRecord(step, figures, events));
    }

    /** The step's figures; on the trainer thread, between steps (they read the learner). */
    TrainingFigures figures(final TrainingStep step, final long total, final int queueDepth, final long now) {
        rateWindow.addLast(new long[] {now, total});
        while (rateWindow.size() > 2 && now - rateWindow.peekFirst()[0] > 5_000) {
            rateWindow.removeFirst();
        }
        final long[] first = rateWindow.peekFirst();
        final double rate = now > first[0] ? (total - first[1]) * 1000.0 / (now - first[0]) : 0;
        final MemoryReport m = step.memory();
        return new TrainingFigures(now, step.version(), step.meanLoss(), step.accuracy(), rate, total,
                consumerLag.getAsLong(), queueDepth, m.peakDeviceBytes(), m.offChipBytes(), m.transferBytes(),
                m.recomputeRatio(), m.optimizerWindowBytes(), learner.divergedSteps(), learner.backendName(),
                learner.optimizerDescription(), step.schedule(),
                step.targets() == 0 ? Double.NaN : step.predictionLossSum() / step.targets(),
                step.targets() == 0 ? Double.NaN : (double) step.predictionsCorrect() / step.targets(),
                m.mixturePairs());
    }

    private TrainingMetrics metricsRecord(final TrainingStep step, final TrainingFigures f, final int events) {
        final MemoryReport m = step.memory();
        return TrainingMetrics.newBuilder()
                .setModelId(settings.modelId()).setInstanceId(settings.instanceId())
                .setModelVersion(step.version()).setTimestampMs(f.timestampMs())
                .setBackend(f.backend()).setOptimizer(f.optimizer()).setCheckpointSchedule(f.checkpointSchedule())
                .setBatchEvents(events).setEventsTrained(f.eventsTrained())
                .setEventsDeadLettered(deadLettered.getAsLong())
                .setLoss(f.loss()).setAccuracy(f.accuracy()).setEventsPerSecond(f.eventsPerSecond())
                .setPredictionLoss(Double.isNaN(f.predictionLoss()) ? null : f.predictionLoss())
                .setPredictionAccuracy(Double.isNaN(f.predictionAccuracy()) ? null : f.predictionAccuracy())
                .setMixturePairs(f.mixturePairs())
                .setQueueDepth(f.queueDepth()).setConsumerLag(f.consumerLag() < 0 ? null : f.consumerLag())
                .setPeakDeviceBytes(m.peakDeviceBytes()).setOffChipBytes(m.offChipBytes())
                .setTransferBytes(m.transferBytes()).setRecomputedSteps(m.recomputedSteps())
                .setRecomputeRatio(m.recomputeRatio()).setOptimizerWindowBytes(m.optimizerWindowBytes())
                .setDivergedSteps(f.divergedSteps())
                .setActivity(Double.isNaN(step.activity()) ? null : step.activity()).build();
    }

    private static SparseVector sparse(final int[] indices, final float[] values) {
        final List<Integer> i = new ArrayList<>(indices.length);
        final List<Float> v = new ArrayList<>(values.length);
        for (int k = 0; k < indices.length; k++) {
            i.add(indices[k]);
            v.add(values[k]);
        }
        return SparseVector.newBuilder().setIndices(i).setValues(v).build();
    }
}
