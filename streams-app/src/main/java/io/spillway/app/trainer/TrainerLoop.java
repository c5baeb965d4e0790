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
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
 * <p>Batches are a function of the log alone, never of timing: consecutive chunks of distinct keys, closed
 * when {@code batchKeys} are in, when the next chunk's key is already in the batch, or at a barrier; a batch
 * that is not closed yet waits for more of the log. So a run restored from a snapshot and replaying the log
 * from its offset trains exactly the steps an uninterrupted run trains, bit for bit on a deterministic backend.
 *
 * <p>Threading: {@link #run()} runs on one dedicated thread; {@link #stop()} and the counters may be used
 * from any thread.
 */
public final class TrainerLoop implements Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerLoop.class);

    /**
     * Where a restored trainer stands.
     *
     * @param chunkOffset first chunk-log entry not in the learner's state
     * @param eventsTrained events in the learner's state
     * @param snapshotVersion version of the snapshot restored, -1 for none
     * @param snapshotChunks records that snapshot was published in (retired when the next one is durable)
     */
    public record Resume(long chunkOffset, long eventsTrained, long snapshotVersion, int snapshotChunks) {
        /** A new model: the log from its beginning. */
        public static final Resume FRESH = new Resume(0, 0, -1, 0);
    }

    private final Learner learner;
    private final ChunkSource source;
    private final TrainingSink sink;
    private final Topics topics;
    private final TrainerSettings settings;
    private final Consumer<TrainingFigures> figuresListener;
    private final Deque<ChunkSource.Entry> backlog = new ArrayDeque<>();
    private final AtomicLong eventsTrained = new AtomicLong();
    private final java.util.function.Supplier<Resume> restorer;
    private volatile long eventsBefore;
    private final AtomicLong steps = new AtomicLong();
    private final StepPublisher publisher;
    private volatile long position;
    private volatile int backlogEvents;
    private long previousSnapshotVersion;
    private int previousSnapshotChunks;
    private volatile boolean stopping;
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
        this.position = resume.chunkOffset();
        this.eventsBefore = resume.eventsTrained();
        this.restorer = restorer;
        this.previousSnapshotVersion = resume.snapshotVersion();
        this.previousSnapshotChunks = resume.snapshotChunks();
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                final Batch batch = closedBatch();
                if (batch == null) {
                    try {
                        read();
                    } catch (final ChunkSource.TruncatedException e) {
                        catchUp(e);
                    }
                    continue;
                }
                position = batch.nextOffset();
                if (!batch.chunks().isEmpty()) {
                    trainAndPublish(batch.chunks());
                }
            }
            // A clean stop leaves a snapshot of everything trained, so a restart continues from here. The batch
            // still open is not trained: it is re-read from the log, so the steps stay those of an uninterrupted run.
            if (learner.version() != previousSnapshotVersion) {
                publishSnapshot(learner.version(), System.currentTimeMillis());
            }
            sink.flush();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final RuntimeException | Error e) {
            failure = e;
            LOG.error("Trainer stopped: {}", e.toString(), e);
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
     * @param entries log entries it consumes
     * @param nextOffset the log offset after them
     */
    private record Batch(List<TimedChunk> chunks, int entries, long nextOffset) {
    }

    /** The batch at the head of the backlog if the log read so far closes it (and takes it off), else null. */
    private Batch closedBatch() {
        final List<TimedChunk> chunks = new ArrayList<>();
        final Set<String> keys = new HashSet<>();
        int entries = 0;
        long next = -1;
        Batch closed = null;
        for (final ChunkSource.Entry e : backlog) {
            if (e.isBarrier()) {
                closed = new Batch(chunks, entries + 1, e.offset() + 1);
                break;
            }
            if (!keys.add(e.chunk().key())) {
                closed = new Batch(chunks, entries, next);
                break;
            }
            chunks.add(e.chunk());
            entries++;
            next = e.offset() + 1;
            if (chunks.size() == settings.batchKeys()) {
                closed = new Batch(chunks, entries, next);
                break;
            }
        }
        if (closed != null) {
            for (int i = 0; i < closed.entries(); i++) {
                backlog.pollFirst();
            }
            backlogEvents = backlog.stream().filter(e -> !e.isBarrier()).mapToInt(e -> e.chunk().size()).sum();
        }
        return closed;
    }

    /** Jumps to the newest snapshot: it includes every entry this loop has not read and the log has dropped. */
    private void catchUp(final ChunkSource.TruncatedException why) {
        final Resume newest = restorer.get();
        if (newest.chunkOffset() <= position) {
            throw new IllegalStateException("the chunk log was truncated past offset " + position
                    + ", but the newest snapshot stands at " + newest.chunkOffset(), why);
        }
        LOG.info("{}; continuing from the newest snapshot, version {} at offset {}", why.getMessage(),
                newest.snapshotVersion(), newest.chunkOffset());
        backlog.clear();
        backlogEvents = 0;
        position = newest.chunkOffset();
        eventsBefore = newest.eventsTrained() - eventsTrained.get();
        previousSnapshotVersion = newest.snapshotVersion();
        previousSnapshotChunks = newest.snapshotChunks();
        source.seek(position);
    }

    private void read() throws InterruptedException {
        final List<ChunkSource.Entry> entries = source.poll(Duration.ofMillis(100));
        for (final ChunkSource.Entry e : entries) {
            if (e.offset() < position || (!backlog.isEmpty() && e.offset() <= backlog.peekLast().offset())) {
                throw new IllegalStateException("chunk log went backwards: offset " + e.offset() + " after "
                        + (backlog.isEmpty() ? position : backlog.peekLast().offset()));
            }
            backlog.addLast(e);
        }
        backlogEvents = backlog.stream().filter(e -> !e.isBarrier()).mapToInt(e -> e.chunk().size()).sum();
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
            publisher.publishDeltas(step.deltas(), settings.instanceId(), step.baseVersion(), step.version(), now);
        }
        publisher.publishPredictions(step, batch);
        figuresListener.accept(publisher.publishMetrics(step, events, eventsTrainedTotal(),
                (int) Math.min(Integer.MAX_VALUE, Math.max(0, source.lag()) + backlog.size()), now));
        if (settings.snapshotEveryVersions() > 0 && step.version() != step.baseVersion()
                && step.version() % settings.snapshotEveryVersions() == 0) {
            publishSnapshot(step.version(), now);
        }
        LOG.debug("Trained step {} on {} events of {} keys in {} ms", step.version(), events, batch.size(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private void publishSnapshot(final long version, final long now) {
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
        final byte[] state = new TrainerCheckpoint(topics.chunks(), position, eventsTrainedTotal(), learnerState).encode();
        final int count = publisher.publishSnapshot(version, TrainerCheckpoint.FORMAT, state, now);
        // Retire the previous snapshot only once this one is durable: the compacted topic always holds a complete one.
        // (A replay after a crash publishes the same snapshots again, under the same keys, with the same bytes.)
        sink.flush();
        if (previousSnapshotVersion != version) {
            publisher.retireSnapshot(previousSnapshotVersion, previousSnapshotChunks);
        }
        previousSnapshotVersion = version;
        previousSnapshotChunks = count;
        if (settings.truncateChunkLog()) {
            source.truncateBefore(position); // this snapshot is the restore point now; nothing before it is read again
        }
        LOG.info("Published snapshot of model version {} at chunk-log offset {} ({} bytes in {} chunks)", version,
                position, state.length, count);
    }

}
