package io.spillway.app.trainer;

import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.scaleout.ErrorFeedbackCompressor;
import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.app.topology.ChunkRecords;
import io.spillway.app.topology.TimedChunk;
import io.spillway.app.topology.Topics;
import io.spillway.engine.Learner;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.TensorDelta;
import io.spillway.engine.TrainingStep;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Split training: this instance's share of the chunk log (a consumer group of trainers splits its partitions),
 * one training step per batch, and every step's deltas, predictions, metrics and consumed chunk-log offsets in
 * one Kafka transaction. The deltas are weighted by the instance's share of the chunk log's partitions and
 * compressed with error feedback ({@link ErrorFeedbackCompressor}); the local model holds exactly what is published, and the other instances' deltas are applied between steps
 * ({@link PeerDeltas}), so every replica is the initial weights plus the same committed deltas. When the log goes
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
 * <p>Threading: {@link #run()} on one dedicated thread (it owns the consumers and the learner); the other methods
 * from any thread.
 */
public final class SplitTrainerLoop implements Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(SplitTrainerLoop.class);
    /** Commits between truncations of the chunk log behind the group's committed offsets. */
    private static final int TRUNCATE_EVERY = 50;

    private record Entry(TopicPartition partition, long offset, TimedChunk chunk) {
        boolean isBarrier() {
            return chunk == null;
        }
    }

    private final Learner learner;
    private final KafkaTrainingSink sink;
    private final PeerDeltas peers;
    private final Topics topics;
    private final TrainerSettings settings;
    private final String incarnation;
    private final Duration flushAfterIdle;
    private final Map<String, Object> clientConfig;
    private final Consumer<TrainingFigures> figuresListener;
    private final StepPublisher publisher;
    private final ErrorFeedbackCompressor compressor;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Deque<Entry> backlog = new ArrayDeque<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private final AtomicLong eventsTrained = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong snapshots = new AtomicLong();
    private volatile long position;
    private volatile int backlogEvents;
    private volatile boolean quiescent;
    private volatile List<Integer> owned = List.of();
    private volatile boolean stopping;
    private volatile Throwable failure;
    private long idleSinceNanos = -1;
    private int commitsSinceTruncation;
    private int chunkPartitions;
    /** The snapshots on the topic this instance keeps (the newest two) while it publishes them. */
    private final KeptSnapshots kept;
    private Admin admin;

    /**
     * @param clientConfig Kafka client settings (bootstrap servers, security)
     * @param sink a transactional sink
     * @param peers the delta log, read from its beginning
     * @param groupId the trainers' consumer group (one per application id)
     * @param incarnation the instance id this process publishes deltas under (unique per process)
     * @param flushAfterIdle publish the residual after the chunk log has been quiet this long
     * @param restored the snapshot the model was restored from ({@link TrainerLoop.Resume#FRESH} for none): kept,
     *        as the fallback, until the second snapshot this instance publishes retires it
     */
    public SplitTrainerLoop(final Learner learner, final Map<String, Object> clientConfig, final KafkaTrainingSink sink,
                            final PeerDeltas peers, final Topics topics, final TrainerSettings settings,
                            final String groupId, final String incarnation, final Duration flushAfterIdle,
                            final int maxPollRecords, final TrainerLoop.Resume restored,
                            final Consumer<TrainingFigures> figuresListener,
                            final LongSupplier consumerLag, final LongSupplier deadLettered) {
        this.learner = learner;
        this.sink = sink;
        this.peers = peers;
        this.topics = topics;
        this.settings = settings;
        this.incarnation = incarnation;
        this.flushAfterIdle = flushAfterIdle;
        this.clientConfig = Map.copyOf(clientConfig);
        this.figuresListener = figuresListener;
        this.publisher = new StepPublisher(learner, sink, topics, settings, consumerLag, deadLettered);
        this.compressor = new ErrorFeedbackCompressor(settings.deltaDensity());
        this.kept = new KeptSnapshots(restored);
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "spillway-trainer-" + incarnation);
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public void run() {
        try {
            peers.catchUp(learner);
            consumer.subscribe(List.of(topics.chunks()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(final Collection<TopicPartition> partitions) {
                    forget(partitions);
                }

                @Override
                public void onPartitionsAssigned(final Collection<TopicPartition> partitions) {
                    owned = consumer.assignment().stream().map(TopicPartition::partition).sorted().toList();
                    LOG.info("Trainer {} trains chunk-log partitions {}", incarnation, owned);
                }

                @Override
                public void onPartitionsLost(final Collection<TopicPartition> partitions) {
                    forget(partitions);
                }
            });
            boolean idle = false;
            while (!stopping) {
                peers.applyAvailable(learner, Duration.ZERO);
                final List<Entry> batch = closedBatch(idle);
                if (batch != null) {
                    idle = false;
                    trainAndCommit(batch);
                    continue;
                }
                final int read = read();
                idle = read == 0;
                if (idle && backlog.isEmpty()) {
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
            failure = e;
            LOG.error("Trainer stopped: {}", e.toString(), e);
        } finally {
            consumer.close();
            peers.close();
            if (admin != null) {
                admin.close(Duration.ofSeconds(5));
            }
        }
    }

    /** Entries of partitions this instance no longer owns: their new owner reads them from the committed offset. */
    private void forget(final Collection<TopicPartition> partitions) {
        backlog.removeIf(e -> partitions.contains(e.partition()));
        owned = owned.stream().filter(p -> partitions.stream().noneMatch(tp -> tp.partition() == p)).toList();
        partitions.forEach(committed::remove);
        backlogEvents = countEvents();
        LOG.info("Trainer {} handed over chunk-log partitions {}", incarnation,
                partitions.stream().map(TopicPartition::partition).sorted().toList());
    }

    private int read() throws InterruptedException {
        int n = 0;
        for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            final TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            backlog.addLast(ChunkRecords.isBarrier(r.value()) ? new Entry(tp, r.offset(), null)
                    : new Entry(tp, r.offset(), ChunkRecords.decode(r.key(), r.value())));
            n++;
        }
        backlogEvents = countEvents();
        return n;
    }

    /**
     * The batch at the head of the backlog (taken off), closed by {@code batchKeys} chunks, a repeated key, a
     * barrier, or (when {@code idle}) the end of what was read; null when none is closed yet.
     */
    private List<Entry> closedBatch(final boolean idle) {
        final Set<String> keys = new HashSet<>();
        int take = 0;
        boolean closed = false;
        for (final Entry e : backlog) {
            if (e.isBarrier()) {
                take++;
                closed = true;
                break;
            }
            if (!keys.add(e.chunk().key())) {
                closed = true;
                break;
            }
            take++;
            if (keys.size() == settings.batchKeys()) {
                closed = true;
                break;
            }
        }
        if (!closed && !(idle && take > 0)) {
            return null;
        }
        final List<Entry> batch = new ArrayList<>(take);
        for (int i = 0; i < take; i++) {
            batch.add(backlog.pollFirst());
        }
        backlogEvents = countEvents();
        return batch;
    }

    private void trainAndCommit(final List<Entry> entries) {
        final List<TimedChunk> batch = entries.stream().filter(e -> !e.isBarrier()).map(Entry::chunk).toList();
        final long now = System.currentTimeMillis();
        sink.beginTransaction();
        int events = 0;
        TrainingFigures figures = null;
        if (!batch.isEmpty()) {
            final List<SequenceChunk> chunks = batch.stream().map(TimedChunk::chunk).toList();
            final TrainingStep step = learner.train(chunks);
            events = batch.stream().mapToInt(TimedChunk::size).sum();
            if (!step.diverged()) {
                final ErrorFeedbackCompressor.Compressed c = compressor.compress(step.deltas(), updateWeight());
                c.correction().forEach(learner::applyDelta);
                publisher.publishDeltas(c.published(), incarnation, step.baseVersion(), step.version(), now);
            }
            publisher.publishPredictions(step, batch);
            figures = publisher.publishMetrics(step, events, eventsTrainedTotal() + events,
                    backlog.size(), now);
        }
        commit();
        eventsTrained.addAndGet(events);
        if (figures != null) {
            steps.incrementAndGet();
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
        final SplitCheckpoint checkpoint = new SplitCheckpoint(topics.deltas(), peers.positions(), peers.logWeights());
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
        final int total = totalPartitions();
        return total <= 0 ? 1f : Math.max(1, owned.size()) / (float) total;
    }

    private int totalPartitions() {
        if (chunkPartitions <= 0) {
            chunkPartitions = consumer.partitionsFor(topics.chunks()).size();
        }
        return chunkPartitions;
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
        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (final TopicPartition tp : consumer.assignment()) {
            final long next = backlog.stream().filter(e -> e.partition().equals(tp)).mapToLong(Entry::offset)
                    .findFirst().orElseGet(() -> consumer.position(tp));
            if (!Long.valueOf(next).equals(committed.get(tp))) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        sink.commitTransaction(offsets, consumer.groupMetadata());
        offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
        position = committed.values().stream().mapToLong(Long::longValue).sum();
        if (++commitsSinceTruncation >= TRUNCATE_EVERY && !committed.isEmpty()) {
            commitsSinceTruncation = 0;
            truncate();
        }
    }

    /** Lets the chunk log drop what the group has trained (best effort; the next truncation retries). */
    private void truncate() {
        if (admin == null) {
            admin = Admin.create(clientConfig);
        }
        final Map<TopicPartition, RecordsToDelete> upTo = new HashMap<>();
        committed.forEach((tp, offset) -> upTo.put(tp, RecordsToDelete.beforeOffset(offset)));
        admin.deleteRecords(upTo).all().whenComplete((ok, error) -> {
            if (error != null) {
                LOG.warn("Could not truncate the chunk log behind the trained offsets: {}", error.toString());
            }
        });
    }

    private int countEvents() {
        return backlog.stream().filter(e -> !e.isBarrier()).mapToInt(e -> e.chunk().size()).sum();
    }

    @Override
    public void stop() {
        stopping = true;
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public long eventsTrained() {
        return eventsTrained.get();
    }

    @Override
    public long eventsTrainedTotal() {
        return eventsTrained.get();
    }

    @Override
    public long steps() {
        return steps.get();
    }

    @Override
    public long eventsPending() {
        return backlogEvents;
    }

    @Override
    public long position() {
        return position;
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
        return quiescent && backlogEvents == 0 && !stopping;
    }
}
