package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.scaleout.DeltaLog;
import io.spillway.app.scaleout.ErrorFeedbackCompressor;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.ConfigProvenance;
import io.spillway.engine.Learner;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Split training: this instance's share of the chunk log (a consumer group of trainers splits its partitions),
 * one training step per batch, and every step's deltas, predictions, metrics and consumed chunk-log offsets in
 * one Kafka transaction. The deltas are weighted by the instance's share of the chunk log's partitions and
 * compressed with error feedback ({@link ErrorFeedbackCompressor}); the local model holds exactly what is published, and the other instances' deltas are applied between steps
 * ({@link DeltaLog}), so every replica is the initial weights plus the same committed deltas. When the log goes
 * quiet for {@code flushAfterIdle}, and on a clean stop, the residual is published too.
 *
 * <p>Every {@code snapshotEveryVersions} steps, the owner of chunk-log partition 0 publishes the delta log's
 * model with the log positions it includes ({@link SplitCheckpoint}); a new or restarted instance restores the
 * newest one and reads the log after it, so the log's older records may go (time-based retention).
 *
 * <p>What a crash costs: the step under way is not committed, so its chunks are trained again by whichever
 * instance owns their partition next; the residual not yet published is dropped (all replicas still agree). The per-key
 * carried RNN states stay with the instance that trained the key; a key whose partition moves starts from a
 * fresh state on its new owner.
 *
 * <p>Steps are formed as in replicated training ({@link StepAssembly}), without lookahead: what a step commits per
 * partition is a plain offset. They need not be a function of the log alone (replicas agree only within rounding
 * anyway), so a quiet log closes the batch read so far.
 *
 * <p>Threading: {@link #run()} on one dedicated thread (it owns the chunk group, the delta log and the learner); the other methods
 * from any thread.
 */
public final class SplitTrainerLoop implements Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(SplitTrainerLoop.class);
    /** Commits between truncations of the chunk log behind the group's committed offsets. */
    private static final int TRUNCATE_EVERY = 50;

    private final Learner learner;
    private final TrainingSink sink;
    private final ChunkGroup source;
    private final DeltaLog peers;
    private final Topics topics;
    private final TrainerSettings settings;
    private final String incarnation;
    private final Duration flushAfterIdle;
    private final Consumer<TrainingFigures> figuresListener;
    private final StepPublisher publisher;
    private final ErrorFeedbackCompressor compressor;
    /** The entries read and not trained yet, of every owned partition. */
    private final StepAssembly assembly;
    private final TrainerProgress progress = new TrainerProgress(0, 0);
    private final Map<Integer, Long> committed = new HashMap<>();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong snapshots = new AtomicLong();
    private volatile boolean quiescent;
    private volatile List<Integer> owned = List.of();
    private long idleSinceNanos = -1;
    private int commitsSinceTruncation;
    /** The snapshots on the topic this instance keeps (the newest two) while it publishes them. */
    private final KeptSnapshots kept;

    /**
     * @param context the learner, where to publish (a transactional sink), what to report
     * @param source this instance's share of the chunk log; the loop closes it when it ends
     * @param peers the delta log, read from its beginning (or the restored snapshot's positions); the loop closes it
     *        when it ends
     * @param incarnation the instance id this process publishes deltas under (unique per process)
     * @param flushAfterIdle publish the residual after the chunk log has been quiet this long
     * @param restored the snapshot the model was restored from ({@link TrainerLoop.Resume#FRESH} for none): kept,
     *        as the fallback, until the second snapshot this instance publishes retires it
     */
    public SplitTrainerLoop(final TrainerContext context, final ChunkGroup source, final DeltaLog peers,
                            final String incarnation, final Duration flushAfterIdle,
                            final TrainerLoop.Resume restored) {
        this.learner = context.learner();
        this.sink = context.sink();
        this.source = source;
        this.peers = peers;
        this.topics = context.topics();
        this.settings = context.settings();
        this.incarnation = incarnation;
        this.flushAfterIdle = flushAfterIdle;
        this.figuresListener = context.figuresListener();
        this.publisher = context.publisher();
        this.compressor = new ErrorFeedbackCompressor(settings.deltaDensity());
        this.assembly = StepAssembly.split(settings);
        this.kept = new KeptSnapshots(restored);
    }

    @Override
    public void run() {
        try {
            peers.catchUp(learner);
            source.subscribe(new ChunkGroup.Assignment() {
                @Override
                public void revoked(final Collection<Integer> partitions) {
                    forget(partitions);
                }

                @Override
                public void assigned(final List<Integer> partitions) {
                    owned = partitions;
                    LOG.info("Trainer {} trains chunk-log partitions {}", incarnation, owned);
                }
            });
            boolean idle = false;
            while (!progress.stopping()) {
                peers.applyAvailable(learner, Duration.ZERO);
                final StepAssembly.Batch batch = assembly.closedBatch(idle);
                if (batch != null) {
                    idle = false;
                    trainAndCommit(batch);
                    continue;
                }
                final int read = read();
                idle = read == 0;
                if (idle && assembly.size() == 0) {
                    whileIdle();
                } else {
                    idleSinceNanos = -1;
                    quiescent = false;
                }
            }
            // A clean stop publishes the residual, so nothing this instance learned is lost.
            flushResidual();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final RuntimeException | Error e) {
            progress.failed(e);
        } finally {
            source.close();
            peers.close();
        }
    }

    /** Entries of partitions this instance no longer owns: their new owner reads them from the committed offset. */
    private void forget(final Collection<Integer> partitions) {
        assembly.forget(partitions);
        owned = owned.stream().filter(p -> !partitions.contains(p)).toList();
        partitions.forEach(committed::remove);
        progress.pendingEvents(assembly.pendingEvents());
        LOG.info("Trainer {} handed over chunk-log partitions {}", incarnation, partitions.stream().sorted().toList());
    }

    private int read() throws InterruptedException {
        final List<ChunkSource.Entry> entries = source.poll(Duration.ofMillis(100));
        entries.forEach(assembly::add);
        progress.pendingEvents(assembly.pendingEvents());
        return entries.size();
    }

    private void trainAndCommit(final StepAssembly.Batch closed) {
        assembly.consume(closed);
        progress.pendingEvents(assembly.pendingEvents());
        final List<TimedChunk> batch = closed.chunks();
        final long now = System.currentTimeMillis();
        sink.beginTransaction();
        int events = 0;
        TrainingFigures figures = null;
        if (!batch.isEmpty()) {
            final TrainingStep step = learner.train(closed.sequences());
            events = closed.events();
            if (!step.diverged()) {
                final ErrorFeedbackCompressor.Compressed c = compressor.compress(step.deltas(), updateWeight());
                c.correction().forEach(learner::applyDelta);
                publisher.publishDeltas(c.published(), incarnation, step.baseVersion(), step.version(), now);
            }
            publisher.publishPredictions(step, batch);
            figures = publisher.publishMetrics(step, events, progress.eventsTrainedTotal() + events,
                    assembly.size(), now);
        }
        commit();
        if (figures != null) {
            progress.stepTrained(events);
            figuresListener.accept(figures);
            if (settings.snapshotEveryVersions() > 0 && learner.version() % settings.snapshotEveryVersions() == 0
                    && owned.contains(0)) {
                publishSnapshot();
            }
        }
    }

    /**
     * Publishes the delta log's model as it stands (the restored snapshot plus every delta read so far) with the
     * log positions it includes, and retires the one before the previous snapshot in the same transaction, so
     * readers see the newest and its fallback ({@link KeptSnapshots}). The owner of chunk-log partition 0 does it, so that one instance does at a time (two during a
     * rebalance publish two snapshots, both valid).
     */
    private void publishSnapshot() {
        final SplitCheckpoint checkpoint = new SplitCheckpoint(topics.deltas(), peers.positions(), peers.logWeights(),
                ConfigProvenance.of(learner.config()));
        final long version = checkpoint.logVersion();
        if (kept.isNewest(version)) {
            return;
        }
        final byte[] state = checkpoint.encode();
        sink.beginTransaction();
        final int count = publisher.publishSnapshot(version, SplitCheckpoint.FORMAT, state, System.currentTimeMillis());
        for (final KeptSnapshots.Kept k : kept.add(version, count, -1)) {
            publisher.retireSnapshot(k.version(), k.chunks());
        }
        commit();
        snapshots.incrementAndGet();
        LOG.info("Published the split model's snapshot at delta-log positions {} ({} bytes in {} records)",
                checkpoint.positions(), state.length, count);
    }

    /**
     * This instance's share of the chunk log's partitions: its updates are weighted by it, so that instances
     * together move the model as one instance at the configured learning rate would (each trains its share of
     * the data; without the weight, N instances act like one at N times the learning rate, which with stale peer
     * updates diverges).
     */
    private float updateWeight() {
        final int total = source.partitionCount();
        return total <= 0 ? 1f : Math.max(1, owned.size()) / (float) total;
    }

    /** Publishes the residual (in a transaction of its own) and holds it locally. */
    private void flushResidual() {
        final List<TensorDelta> residual = compressor.drain();
        if (residual.isEmpty()) {
            return;
        }
        sink.beginTransaction();
        residual.forEach(learner::applyDelta);
        publisher.publishDeltas(residual, incarnation, learner.version(), learner.version(),
                System.currentTimeMillis());
        commit();
        flushes.incrementAndGet();
        LOG.info("Trainer {} published its residual ({} tensors) at version {}", incarnation, residual.size(),
                learner.version());
    }

    /** The chunk log went quiet: publish the residual once it has been quiet long enough; note when all is done. */
    private void whileIdle() {
        final long now = System.nanoTime();
        if (idleSinceNanos < 0) {
            idleSinceNanos = now;
            return;
        }
        if (now - idleSinceNanos >= flushAfterIdle.toNanos()) {
            flushResidual();
            quiescent = peers.atEnd();
        }
    }

    /**
     * Commits the open transaction with, for every owned partition, the offset before which everything is
     * trained: the first entry still in the backlog, or the consumer's position when none is.
     */
    private void commit() {
        final Map<Integer, Long> offsets = new HashMap<>();
        for (final int partition : source.assignment()) {
            final long next = assembly.firstPending(partition).orElseGet(() -> source.position(partition));
            if (!Long.valueOf(next).equals(committed.get(partition))) {
                offsets.put(partition, next);
            }
        }
        sink.commitTransaction(offsets);
        committed.putAll(offsets);
        progress.position(committed.values().stream().mapToLong(Long::longValue).sum());
        if (++commitsSinceTruncation >= TRUNCATE_EVERY && !committed.isEmpty()) {
            commitsSinceTruncation = 0;
            source.truncateBefore(Map.copyOf(committed));
        }
    }

    @Override
    public TrainerProgress progress() {
        return progress;
    }

    /** The instance id this process publishes its deltas under. */
    public String incarnation() {
        return incarnation;
    }

    /** The chunk-log partitions this instance trains now. */
    public List<Integer> ownedPartitions() {
        return owned;
    }

    /** Deltas of other instances applied so far (including the catch-up at start). */
    public long peerDeltasApplied() {
        return peers.applied();
    }

    /** Snapshots this instance published. */
    public long snapshotsPublished() {
        return snapshots.get();
    }

    /** Times the residual was published. */
    public long residualFlushes() {
        return flushes.get();
    }

    /**
     * Whether this instance is settled: its share of the chunk log is trained and quiet, its residual is
     * published, and it has applied every committed delta (as of its last check).
     */
    public boolean quiescent() {
        return quiescent && progress.eventsPending() == 0 && !progress.stopping();
    }
}
