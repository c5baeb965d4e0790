package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.TrainingStep;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer thread's work: read the chunk log in offset order, form batches, train one step per batch, and
 * publish the step's deltas, predictions, metrics and, periodically, a snapshot that records the log offset it
 * includes; once a snapshot is durable, the log before its offset may be deleted.
 *
 * <p>Batches are a function of the log alone, never of timing. A batch scans the untrained entries in log order
 * and takes each chunk whose key it does not have yet; it passes over a chunk of a key it has (and every later
 * chunk of that key, so each key's chunks are trained in order), at most {@code batchLookahead} of them. It
 * closes when {@code batchKeys} chunks are in, at a barrier, when one more entry would have to be passed over,
 * or at a chunk handed over more than {@code batchWindowMs} after its first one (by the chunk records' timestamps,
 * the input's clock); a batch that
 * is not closed yet waits for more of the log. Entries passed over stay for the next batch, so the state stands
 * at an offset plus the few entries past it already trained, and snapshots record both. So a run restored from
 * a snapshot and replaying the log from its offset trains exactly the steps an uninterrupted run trains, bit for
 * bit on a deterministic backend.
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
    private final Deque<ChunkSource.Entry> backlog = new ArrayDeque<>();
    /** Offsets past {@link #position} already trained (taken by lookahead); they are dropped when read. */
    private final NavigableSet<Long> trainedAhead = new TreeSet<>();
    private long lastRead;
    private final AtomicLong eventsTrained = new AtomicLong();
    private final java.util.function.Supplier<Resume> restorer;
    private volatile long eventsBefore;
    private final AtomicLong steps = new AtomicLong();
    private final StepPublisher publisher;
    private volatile long position;
    private volatile int backlogEvents;
    /** The snapshots on the topic this loop keeps: the newest two. */
    private final KeptSnapshots kept;
    private volatile boolean stopping;
    /** Runs the publishing of each step behind the training of the next (set by {@link #run()}). */
    private PublishingThread publishing;
    /** Chunk-log offset of the oldest snapshot kept, once the newest is durable (set by the publishing thread). */
    private volatile long durableSnapshotPosition = -1;
    private long truncatedBefore = -1;
    private volatile Throwable failure;

    /**
     * @param source the chunk log, positioned at {@code resume.chunkOffset()}
     * @param resume where the learner's restored state stands ({@link Resume#FRESH} for a new model)
     * @param restorer loads the newest complete snapshot into the learner and says where it stands; used when
     *         the log was truncated past this loop's position (a newer snapshot, of another replica, includes it)
     * @param figuresListener told every step's figures (e.g. the operations metrics)
     * @param consumerLag records behind the input topic's end, or -1 when unknown
     * @param deadLettered records dead-lettered so far, for the metrics records
     */
    public TrainerLoop(final Learner learner, final ChunkSource source, final TrainingSink sink, final Topics topics,
                       final TrainerSettings settings, final Resume resume, final java.util.function.Supplier<Resume> restorer,
                       final Consumer<TrainingFigures> figuresListener,
                       final LongSupplier consumerLag, final LongSupplier deadLettered) {
        this.learner = learner;
        this.source = source;
        this.sink = sink;
        this.topics = topics;
        this.settings = settings;
        this.figuresListener = figuresListener;
        this.publisher = new StepPublisher(learner, sink, topics, settings, consumerLag, deadLettered);
        resumeAt(resume);
        this.eventsBefore = resume.eventsTrained();
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
            failure = e;
            LOG.error("Trainer stopped: {}", e.toString(), e);
        }
    }

    private void trainUntilStopped() throws InterruptedException {
        while (!stopping) {
            truncateBehindDurableSnapshot();
            final Batch batch = closedBatch();
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
                trainAndPublish(batch.chunks(), batch.closedBy());
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

    /** Asks the loop to finish the step under way, publish a snapshot and return. */
    @Override
    public void stop() {
        stopping = true;
    }

    /** Why the loop died, if it did. */
    @Override
    public Throwable failure() {
        return failure;
    }

    /** Events trained by this loop (since this process restored the model). */
    @Override
    public long eventsTrained() {
        return eventsTrained.get();
    }

    /** Events in the model, over all runs that trained it. */
    @Override
    public long eventsTrainedTotal() {
        return eventsBefore + eventsTrained.get();
    }

    /** Training steps done so far by this loop. */
    @Override
    public long steps() {
        return steps.get();
    }

    /** First chunk-log offset not trained yet (the offset the next snapshot records). */
    @Override
    public long position() {
        return position;
    }

    /** Events read from the log but not trained yet (their batch is not closed). */
    @Override
    public long eventsPending() {
        return backlogEvents;
    }

    /**
     * A closed batch.
     *
     * @param chunks the chunks to train, possibly none (a barrier with no batch open)
     * @param consumed offsets of the log entries it takes off the backlog (its chunks, and a barrier that closed it
     *        with nothing passed over before it)
     */
    private record Batch(List<TimedChunk> chunks, Set<Long> consumed, String closedBy) {
    }

    /** The batch the backlog closes (see the class comment), or null while it needs more of the log. */
    private Batch closedBatch() {
        final List<TimedChunk> chunks = new ArrayList<>();
        final Set<Long> consumed = new HashSet<>();
        final Set<String> keys = new HashSet<>();
        final Set<String> passedKeys = new HashSet<>();
        int passed = 0;
        long windowEnd = Long.MAX_VALUE;
        for (final ChunkSource.Entry e : backlog) {
            if (e.isBarrier()) {
                if (passedKeys.isEmpty()) {
                    consumed.add(e.offset()); // nothing before it is left: the flush it records is done
                }
                return new Batch(chunks, consumed, "a barrier");
            }
            final TimedChunk chunk = e.chunk();
            if (e.timestampMs() > windowEnd) {
                return new Batch(chunks, consumed, "the window");
            }
            if (keys.contains(chunk.key()) || passedKeys.contains(chunk.key())) {
                if (passed == settings.batchLookahead()) {
                    return new Batch(chunks, consumed, "the lookahead");
                }
                passed++;
                passedKeys.add(chunk.key());
                continue;
            }
            if (chunks.isEmpty()) {
                windowEnd = saturatedAdd(e.timestampMs(), settings.batchWindowMs());
            }
            keys.add(chunk.key());
            chunks.add(chunk);
            consumed.add(e.offset());
            if (chunks.size() == settings.batchKeys()) {
                return new Batch(chunks, consumed, "its keys");
            }
        }
        return null;
    }

    private static long saturatedAdd(final long a, final long b) {
        final long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** Takes the batch's entries off the backlog and moves the position to the first entry left untrained. */
    private void consume(final Batch batch) {
        backlog.removeIf(e -> batch.consumed().contains(e.offset()));
        long next = backlog.isEmpty() ? lastRead + 1 : backlog.peekFirst().offset();
        for (final long offset : batch.consumed()) {
            if (offset > next) {
                trainedAhead.add(offset);
            }
        }
        while (backlog.isEmpty() && trainedAhead.remove(next)) {
            next++; // restored as trained but not read yet: read() drops it
        }
        trainedAhead.headSet(next).clear();
        position = next;
        backlogEvents = pendingEvents();
    }

    private int pendingEvents() {
        return backlog.stream().filter(e -> !e.isBarrier()).mapToInt(e -> e.chunk().size()).sum();
    }

    private void resumeAt(final Resume resume) {
        backlog.clear();
        backlogEvents = 0;
        position = resume.chunkOffset();
        lastRead = position - 1;
        trainedAhead.clear();
        for (final long offset : resume.trainedAhead()) {
            trainedAhead.add(offset);
        }
    }

    /**
     * Jumps to the newest snapshot: it includes every entry this loop has not read and the log has dropped. When the
     * newest that could be restored does not (the ones after it were refused), the entries between it and the log's
     * start are gone for good: the loop continues from the log's start, with an error, rather than stop training.
     */
    private void catchUp(final ChunkSource.TruncatedException why) {
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
        eventsBefore = newest.eventsTrained() - eventsTrained.get();
        kept.reset(newest);
        source.seek(position);
    }

    private void read() throws InterruptedException {
        final List<ChunkSource.Entry> entries = source.poll(Duration.ofMillis(100));
        for (final ChunkSource.Entry e : entries) {
            if (e.offset() <= lastRead) {
                throw new IllegalStateException("chunk log went backwards: offset " + e.offset() + " after " + lastRead);
            }
            lastRead = e.offset();
            if (e.offset() >= position && !trainedAhead.contains(e.offset())) { // else the state includes it
                backlog.addLast(e);
            }
        }
        backlogEvents = pendingEvents();
    }

    /** Trains the batch and hands its publishing to the publishing thread (so it overlaps the next step). */
    private void trainAndPublish(final List<TimedChunk> batch, final String closedBy) throws InterruptedException {
        final List<SequenceChunk> chunks = batch.stream().map(TimedChunk::chunk).toList();
        final long started = System.nanoTime();
        final TrainingStep step = learner.train(chunks);
        final int events = batch.stream().mapToInt(TimedChunk::size).sum();
        eventsTrained.addAndGet(events);
        steps.incrementAndGet();
        final long now = System.currentTimeMillis();
        final TrainingFigures figures = publisher.figures(step, eventsTrainedTotal(),
                (int) Math.min(Integer.MAX_VALUE, Math.max(0, source.lag()) + backlog.size()), now);
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
        LOG.debug("Trained step {} on {} events of {} keys (closed by {}) in {} ms", step.version(), events, batch.size(), closedBy,
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
        final byte[] state = new TrainerCheckpoint(topics.chunks(), position,
                trainedAhead.stream().mapToLong(Long::longValue).toArray(), eventsTrainedTotal(), learnerState).encode();
        final int count = publisher.snapshotRecords(state.length);
        final long at = position;
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
