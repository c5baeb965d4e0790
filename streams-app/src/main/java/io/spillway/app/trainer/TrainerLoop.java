package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.topology.ChunkQueue;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.MemoryReport;
import io.spillway.engine.Prediction;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import io.spillway.schemas.avro.ModelDelta;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.avro.TrainingMetrics;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer thread's work: take chunks from the queue, batch chunks of distinct keys, train one step,
 * and publish the step's deltas, predictions, metrics and, periodically, a snapshot. Chunks of one key
 * are trained in arrival order (a second chunk of a key in the same batch waits for the next step).
 *
 * <p>Threading: {@link #run()} runs on one dedicated thread; {@link #stop()} and the counters may be used
 * from any thread.
 */
public final class TrainerLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerLoop.class);

    private final Learner learner;
    private final ChunkQueue queue;
    private final TrainingSink sink;
    private final Topics topics;
    private final TrainerSettings settings;
    private final Consumer<TrainingFigures> figuresListener;
    private final LongSupplier consumerLag;
    private final LongSupplier deadLettered;
    private final Deque<TimedChunk> pending = new ArrayDeque<>();
    private final AtomicLong eventsTrained = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final Deque<long[]> rateWindow = new ArrayDeque<>();
    private long previousSnapshotVersion = -1;
    private int previousSnapshotChunks;
    private volatile boolean stopping;
    private volatile Throwable failure;

    /**
     * @param figuresListener told every step's figures (e.g. the operations metrics)
     * @param consumerLag records behind the input topic's end, or -1 when unknown
     * @param deadLettered records dead-lettered so far, for the metrics records
     */
    public TrainerLoop(final Learner learner, final ChunkQueue queue, final TrainingSink sink, final Topics topics,
                       final TrainerSettings settings, final Consumer<TrainingFigures> figuresListener,
                       final LongSupplier consumerLag, final LongSupplier deadLettered) {
        this.learner = learner;
        this.queue = queue;
        this.sink = sink;
        this.topics = topics;
        this.settings = settings;
        this.figuresListener = figuresListener;
        this.consumerLag = consumerLag;
        this.deadLettered = deadLettered;
    }

    @Override
    public void run() {
        try {
            while (true) {
                final List<TimedChunk> batch = nextBatch();
                if (batch.isEmpty()) {
                    if (stopping && queue.depth() == 0 && pending.isEmpty()) {
                        break;
                    }
                    continue;
                }
                trainAndPublish(batch);
            }
            // A clean stop leaves a snapshot of everything trained, so a restart continues from here.
            if (learner.version() != previousSnapshotVersion) {
                publishSnapshot(learner.version(), System.currentTimeMillis());
            }
            sink.flush();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final RuntimeException | Error e) {
            failure = e;
            queue.close(e.toString());
            LOG.error("Trainer stopped: {}", e.toString(), e);
        }
    }

    /** Asks the loop to finish the chunks already queued and return. */
    public void stop() {
        stopping = true;
    }

    /** Why the loop died, if it did. */
    public Throwable failure() {
        return failure;
    }

    /** Events in chunks trained so far. */
    public long eventsTrained() {
        return eventsTrained.get();
    }

    /** Training steps done so far. */
    public long steps() {
        return steps.get();
    }

    /** Events taken from the queue but not trained yet (waiting behind an earlier chunk of their key). */
    public long eventsPending() {
        synchronized (pending) {
            return pending.stream().mapToLong(TimedChunk::size).sum();
        }
    }

    private List<TimedChunk> nextBatch() throws InterruptedException {
        final List<TimedChunk> batch = new ArrayList<>();
        final Set<String> keys = new HashSet<>();
        synchronized (pending) {
            final int waiting = pending.size();
            for (int i = 0; i < waiting && batch.size() < settings.batchKeys(); i++) {
                final TimedChunk c = pending.pollFirst();
                if (keys.add(c.key())) {
                    batch.add(c);
                } else {
                    pending.addLast(c);
                }
            }
        }
        TimedChunk next = batch.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : queue.pollNow();
        while (next != null) {
            admit(next, batch, keys);
            if (batch.size() >= settings.batchKeys()) {
                break;
            }
            next = queue.pollNow();
        }
        return batch;
    }

    /** Adds the chunk to the batch unless its key is already there or has an older chunk waiting. */
    private void admit(final TimedChunk chunk, final List<TimedChunk> batch, final Set<String> keys) {
        synchronized (pending) {
            final boolean keyWaits = pending.stream().anyMatch(c -> c.key().equals(chunk.key()));
            if (!keyWaits && keys.add(chunk.key())) {
                batch.add(chunk);
            } else {
                pending.addLast(chunk);
            }
        }
    }

    private void trainAndPublish(final List<TimedChunk> batch) {
        final List<SequenceChunk> chunks = batch.stream().map(TimedChunk::chunk).toList();
        final long started = System.nanoTime();
        final TrainingStep step = learner.train(chunks);
        final int events = batch.stream().mapToInt(TimedChunk::size).sum();
        eventsTrained.addAndGet(events);
        steps.incrementAndGet();
        final long now = System.currentTimeMillis();
        if (!step.diverged()) {
            publishDeltas(step, now);
        }
        publishPredictions(step, batch);
        final TrainingFigures figures = figures(step, events, now);
        sink.send(topics.metrics(), settings.modelId(), metricsRecord(step, figures, events));
        figuresListener.accept(figures);
        if (settings.snapshotEveryVersions() > 0 && step.version() != step.baseVersion()
                && step.version() % settings.snapshotEveryVersions() == 0) {
            publishSnapshot(step.version(), now);
        }
        LOG.debug("Trained step {} on {} events of {} keys in {} ms", step.version(), events, batch.size(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private void publishDeltas(final TrainingStep step, final long now) {
        for (final TensorDelta delta : step.deltas()) {
            final int n = delta.indices().length;
            final int chunkCount = Math.max(1, (n + settings.maxDeltaEntries() - 1) / settings.maxDeltaEntries());
            for (int c = 0; c < chunkCount; c++) {
                final int from = c * settings.maxDeltaEntries();
                final int to = Math.min(n, from + settings.maxDeltaEntries());
                final ModelDelta record = ModelDelta.newBuilder()
                        .setModelId(settings.modelId()).setInstanceId(settings.instanceId())
                        .setVersion(step.version()).setBaseVersion(step.baseVersion())
                        .setTensor(delta.tensor()).setTensorSize(delta.size())
                        .setChunkIndex(c).setChunkCount(chunkCount)
                        .setUpdate(sparse(Arrays.copyOfRange(delta.indices(), from, to),
                                Arrays.copyOfRange(delta.values(), from, to)))
                        .setCreatedAtMs(now).build();
                sink.send(topics.deltas(), settings.modelId(), record);
            }
        }
    }

    private void publishPredictions(final TrainingStep step, final List<TimedChunk> batch) {
        final Map<String, TimedChunk> byKey = new HashMap<>();
        for (final TimedChunk c : batch) {
            byKey.put(c.key(), c);
        }
        for (final Prediction p : step.predictions()) {
            sink.send(topics.predictions(), p.key(), io.spillway.schemas.avro.Prediction.newBuilder()
                    .setEntityId(p.key()).setModelVersion(step.baseVersion())
                    .setAfterTimestampMs(seenAt(byKey.get(p.key()), p))
                    .setPredictedEventType(p.predictedType()).setProbability(p.probability())
                    .setActualEventType(p.actualType() < 0 ? null : p.actualType()).build());
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

    private void publishSnapshot(final long version, final long now) {
        final byte[] state;
        try {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                learner.writeState(out);
            }
            state = bytes.toByteArray();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        final String sha = SnapshotReader.sha256(state);
        final int size = settings.snapshotChunkBytes();
        final int count = Math.max(1, (state.length + size - 1) / size);
        for (int c = 0; c < count; c++) {
            final int from = c * size;
            final int to = Math.min(state.length, from + size);
            sink.send(topics.snapshots(), snapshotKey(version, c), ModelSnapshotChunk.newBuilder()
                    .setModelId(settings.modelId()).setInstanceId(settings.instanceId()).setVersion(version)
                    .setFormat("spillway-learner-state-v1").setChunkIndex(c).setChunkCount(count)
                    .setTotalBytes(state.length).setSha256(sha).setPayload(ByteBuffer.wrap(state, from, to - from))
                    .setCreatedAtMs(now).build());
        }
        // Retire the previous snapshot only once this one is durable: the compacted topic always holds a complete one.
        sink.flush();
        for (int c = 0; c < previousSnapshotChunks; c++) {
            sink.delete(topics.snapshots(), snapshotKey(previousSnapshotVersion, c));
        }
        previousSnapshotVersion = version;
        previousSnapshotChunks = count;
        LOG.info("Published snapshot of model version {} ({} bytes in {} chunks)", version, state.length, count);
    }

    /** Key of a snapshot chunk, as the ModelSnapshotChunk schema specifies: {@code modelId/version/chunkIndex}. */
    private String snapshotKey(final long version, final int chunk) {
        return settings.modelId() + "/" + version + "/" + chunk;
    }

    private TrainingFigures figures(final TrainingStep step, final int events, final long now) {
        final long total = eventsTrained.get();
        rateWindow.addLast(new long[] {now, total});
        while (rateWindow.size() > 2 && now - rateWindow.peekFirst()[0] > 5_000) {
            rateWindow.removeFirst();
        }
        final long[] first = rateWindow.peekFirst();
        final double rate = now > first[0] ? (total - first[1]) * 1000.0 / (now - first[0]) : 0;
        final MemoryReport m = step.memory();
        return new TrainingFigures(now, step.version(), step.meanLoss(), step.accuracy(), rate, total,
                consumerLag.getAsLong(), queue.depth(), m.peakDeviceBytes(), m.offChipBytes(), m.transferBytes(),
                m.recomputeRatio(), m.optimizerWindowBytes(), learner.divergedSteps(), learner.backendName(),
                learner.optimizerDescription(), step.schedule());
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
                .setQueueDepth(f.queueDepth()).setConsumerLag(f.consumerLag() < 0 ? null : f.consumerLag())
                .setPeakDeviceBytes(m.peakDeviceBytes()).setOffChipBytes(m.offChipBytes())
                .setTransferBytes(m.transferBytes()).setRecomputedSteps(m.recomputedSteps())
                .setRecomputeRatio(m.recomputeRatio()).setOptimizerWindowBytes(m.optimizerWindowBytes())
                .setDivergedSteps(f.divergedSteps()).build();
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
