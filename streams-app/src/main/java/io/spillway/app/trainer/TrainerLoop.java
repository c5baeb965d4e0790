package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.Learner;
import io.spillway.engine.TrainingStep;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer thread's work: read the chunk log in offset order, form batches, train one step per batch, and
 * publish the step's deltas, predictions, metrics and, periodically, a snapshot that records the log offset it
 * includes; once a snapshot is durable, the log before its offset may be deleted.
 *
 * <p>Batches are a function of the log alone, never of timing ({@link StepAssembly}: distinct keys, a bounded
 * lookahead past repeated keys, barriers and an event-time window close them); a batch that is not closed yet waits
 * for more of the log. Entries passed over stay for the next batch, so the state stands at an offset plus the few
 * entries past it already trained, and snapshots record both. So a run restored from a snapshot and replaying the
 * log from its offset trains exactly the steps an uninterrupted run trains, bit for bit on a deterministic backend.
 *
 * <p>Threading: {@link #run()} runs on one dedicated thread, which hands each step's publishing (encoding and
 * sending its records, snapshots) to a second thread, in order, so that it overlaps the next step's training;
 * {@link #stop()} and the counters may be used from any thread.
 */
public final class TrainerLoop implements Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerLoop.class);

    /**
     * Where a restored trainer stands.
     *
     * @param chunkOffset first chunk-log entry not in the learner's state
     * @param eventsTrained events in the learner's state
     * @param snapshotVersion version of the snapshot restored, -1 for none
     * @param snapshotChunks records that snapshot was published in
     * @param olderSnapshots complete snapshots of the model older than the one restored, version to chunk count
     *        (retired, like the restored one later, once newer ones are durable; see {@link KeptSnapshots})
     */
    public record Resume(long chunkOffset, long[] trainedAhead, long eventsTrained, long snapshotVersion,
                         int snapshotChunks, Map<Long, Integer> olderSnapshots) {
        /** A new model: the log from its beginning. */
        public static final Resume FRESH = new Resume(0, 0, -1, 0);

        /** A position with no entry past {@code chunkOffset} trained. */
        public Resume(final long chunkOffset, final long eventsTrained, final long snapshotVersion,
                      final int snapshotChunks) {
            this(chunkOffset, new long[0], eventsTrained, snapshotVersion, snapshotChunks);
        }

        /** A restore that found no older snapshot. */
        public Resume(final long chunkOffset, final long[] trainedAhead, final long eventsTrained,
                      final long snapshotVersion, final int snapshotChunks) {
            this(chunkOffset, trainedAhead, eventsTrained, snapshotVersion, snapshotChunks, Map.of());
        }

        public Resume {
            trainedAhead = trainedAhead.clone();
            olderSnapshots = Map.copyOf(olderSnapshots);
        }
    }

    private final Learner learner;
    private final ChunkSource source;
    private final TrainingSink sink;
    private final Topics topics;
    private final TrainerSettings settings;
    private final Consumer<TrainingFigures> figuresListener;
    /** The log read and not trained yet, and where its trained part ends (partition 0: the log has one). */
    private final StepAssembly assembly;
    private final TrainerProgress progress;
    private final java.util.function.Supplier<Resume> restorer;
    private final StepPublisher publisher;
    /** The snapshots on the topic this loop keeps: the newest two. */
    private final KeptSnapshots kept;
    /** Runs the publishing of each step behind the training of the next (set by {@link #run()}). */
    private PublishingThread publishing;
    /** Chunk-log offset of the oldest snapshot kept, once the newest is durable (set by the publishing thread). */
    private volatile long durableSnapshotPosition = -1;
    private long truncatedBefore = -1;

    /**
     * @param context the learner, where to publish, what to report
     * @param source the chunk log, positioned at {@code resume.chunkOffset()}
     * @param resume where the learner's restored state stands ({@link Resume#FRESH} for a new model)
     * @param restorer loads the newest complete snapshot into the learner and says where it stands; used when
     *         the log was truncated past this loop's position (a newer snapshot, of another replica, includes it)
     */
    public TrainerLoop(final TrainerContext context, final ChunkSource source, final Resume resume,
                       final java.util.function.Supplier<Resume> restorer) {
        this.learner = context.learner();
        this.source = source;
        this.sink = context.sink();
        this.topics = context.topics();
        this.settings = context.settings();
        this.figuresListener = context.figuresListener();
        this.publisher = context.publisher();
        this.assembly = StepAssembly.replicated(settings);
        this.progress = new TrainerProgress(resume.eventsTrained(), resume.chunkOffset());
        resumeAt(resume);
        this.restorer = restorer;
        this.kept = new KeptSnapshots(resume);
    }

    @Override
    public void run() {
        try (PublishingThread publishing = new PublishingThread(Thread.currentThread().getName() + "-publishing", 2)) {
            this.publishing = publishing;
            trainUntilStopped();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final RuntimeException | Error e) {
            progress.failed(e);
        }
    }

    private void trainUntilStopped() throws InterruptedException {
        while (!progress.stopping()) {
            truncateBehindDurableSnapshot();
            final StepAssembly.Batch batch = assembly.closedBatch(false);
            if (batch == null) {
                try {
                    read();
                } catch (final ChunkSource.TruncatedException e) {
                    catchUp(e);
                }
                continue;
            }
            consume(batch);
            if (!batch.chunks().isEmpty()) {
                trainAndPublish(batch);
            }
        }
        // A clean stop leaves a snapshot of everything trained, so a restart continues from here. The batch
        // still open is not trained: it is re-read from the log, so the steps stay those of an uninterrupted run.
        if (!kept.isNewest(learner.version())) {
            publishSnapshot(learner.version(), System.currentTimeMillis());
        }
        publishing.drain();
        sink.flush();
        truncateBehindDurableSnapshot();
    }

    /**
     * Lets the log drop what the oldest snapshot kept includes: it and the newer one are the restore points (the
     * older one when the newer cannot be restored), nothing before it is read again.
     */
    private void truncateBehindDurableSnapshot() {
        final long durable = durableSnapshotPosition;
        if (settings.truncateChunkLog() && durable > truncatedBefore) {
            source.truncateBefore(durable);
            truncatedBefore = durable;
        }
    }

    @Override
    public TrainerProgress progress() {
        return progress;
    }

    /** Takes the batch's entries off the backlog and moves the position to the first entry left untrained. */
    private void consume(final StepAssembly.Batch batch) {
        assembly.consume(batch);
        progress.position(assembly.position(0));
        progress.pendingEvents(assembly.pendingEvents());
    }

    private void resumeAt(final Resume resume) {
        assembly.resumeAt(0, resume.chunkOffset(), resume.trainedAhead());
        progress.position(resume.chunkOffset());
        progress.pendingEvents(0);
    }

    /**
     * Jumps to the newest snapshot: it includes every entry this loop has not read and the log has dropped. When the
     * newest that could be restored does not (the ones after it were refused), the entries between it and the log's
     * start are gone for good: the loop continues from the log's start, with an error, rather than stop training.
     */
    private void catchUp(final ChunkSource.TruncatedException why) {
        final long position = assembly.position(0);
        Resume newest = restorer.get();
        if (newest.chunkOffset() <= position) {
            final long first = source.firstOffset();
            if (first <= position) {
                throw new IllegalStateException("the chunk log was truncated past offset " + position
                        + ", but the newest snapshot stands at " + newest.chunkOffset(), why);
            }
            LOG.error("The chunk log now starts at offset {}, but the newest snapshot of model {} that could be restored"
                    + " (version {}) stands at offset {}: the {} entries between are lost to the model; continuing"
                    + " from the log's start", first, settings.modelId(), newest.snapshotVersion(), newest.chunkOffset(),
                    first - newest.chunkOffset());
            newest = new Resume(first, Arrays.stream(newest.trainedAhead()).filter(o -> o > first).toArray(),
                    newest.eventsTrained(), newest.snapshotVersion(), newest.snapshotChunks(), newest.olderSnapshots());
        }
        LOG.info("{}; continuing from the newest snapshot, version {} at offset {}", why.getMessage(),
                newest.snapshotVersion(), newest.chunkOffset());
        resumeAt(newest);
        progress.modelHolds(newest.eventsTrained());
        kept.reset(newest);
        source.seek(assembly.position(0));
    }

    private void read() throws InterruptedException {
        for (final ChunkSource.Entry e : source.poll(Duration.ofMillis(100))) {
            assembly.add(e);
        }
        progress.pendingEvents(assembly.pendingEvents());
    }

    /** Trains the batch and hands its publishing to the publishing thread (so it overlaps the next step). */
    private void trainAndPublish(final StepAssembly.Batch closed) throws InterruptedException {
        final List<TimedChunk> batch = closed.chunks();
        final long started = System.nanoTime();
        final TrainingStep step = learner.train(closed.sequences());
        final int events = closed.events();
        progress.stepTrained(events);
        final long now = System.currentTimeMillis();
        final TrainingFigures figures = publisher.figures(step, progress.eventsTrainedTotal(),
                (int) Math.min(Integer.MAX_VALUE, Math.max(0, source.lag()) + assembly.size()), now);
        publishing.submit(() -> {
            if (!step.diverged()) {
                publisher.publishDeltas(step.deltas(), settings.instanceId(), step.baseVersion(), step.version(), now);
            }
            publisher.publishPredictions(step, batch);
            publisher.publishMetrics(step, figures, events);
            figuresListener.accept(figures);
        });
        if (settings.snapshotEveryVersions() > 0 && step.version() != step.baseVersion()
                && step.version() % settings.snapshotEveryVersions() == 0) {
            publishSnapshot(step.version(), now);
        }
        LOG.debug("Trained step {} on {} events of {} keys (closed by {}) in {} ms", step.version(), events, batch.size(), closed.closedBy(),
                (System.nanoTime() - started) / 1_000_000);
    }

    /** Writes the learner's state here, between steps; publishes it, and retires the previous one, behind the steps before. */
    private void publishSnapshot(final long version, final long now) throws InterruptedException {
        final byte[] learnerState;
        try {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                learner.writeState(out);
            }
            learnerState = bytes.toByteArray();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        final long at = assembly.position(0);
        final byte[] state = new TrainerCheckpoint(topics.chunks(), at, assembly.trainedAhead(0),
                progress.eventsTrainedTotal(), ConfigProvenance.of(learner.config()), learnerState).encode();
        final int count = publisher.snapshotRecords(state.length);
        final List<KeptSnapshots.Kept> retire = kept.add(version, count, at);
        final long keptFrom = kept.oldestPosition();
        publishing.submit(() -> {
            publisher.publishSnapshot(version, TrainerCheckpoint.FORMAT, state, now);
            // Retire older snapshots only once this one is durable: the compacted topic always holds a complete one,
            // and the one before it as a fallback. (A replay after a crash publishes the same snapshots again, under
            // the same keys, with the same bytes.)
            sink.flush();
            for (final KeptSnapshots.Kept k : retire) {
                publisher.retireSnapshot(k.version(), k.chunks());
            }
            if (keptFrom >= 0) {
                durableSnapshotPosition = keptFrom;
            }
            LOG.info("Published snapshot of model version {} at chunk-log offset {} ({} bytes in {} chunks)", version,
                    at, state.length, count);
        });
    }

}
