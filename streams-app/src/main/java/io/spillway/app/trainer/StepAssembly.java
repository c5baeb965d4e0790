package io.spillway.app.trainer;

import io.spillway.app.topology.TimedChunk;
import io.spillway.engine.SequenceChunk;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a trainer forms its steps from the chunk log, whichever way the training is shared (as Kafka Streams'
 * {@code PartitionGroup} serves every task): the entries read and not trained yet, of every partition the trainer
 * reads, the batch they close, and per partition where the trained part of the log ends.
 *
 * <p>A batch scans the untrained entries in read order and takes each chunk whose key it does not have yet; it
 * passes over a chunk of a key it has (and every later chunk of that key, so each key's chunks are trained in
 * order), at most {@code lookahead} of them. It closes when {@code batchKeys} chunks are in, at a barrier, when one
 * more entry would have to be passed over, at a chunk handed over more than {@code windowMs} after its first one
 * (by the chunk records' timestamps, the input's clock), or, when the caller says the log is quiet, at the end of
 * what was read. Entries passed over stay for the next batch, so a partition's trained part is an offset plus the
 * few entries past it already trained ({@link #trainedAhead}).
 *
 * <p>Replicated training closes batches by the log alone (never "the log is quiet"), so every replica trains the
 * same steps. Split training uses no lookahead (what it commits per partition is a plain offset) and closes what
 * it has when its share of the log is quiet.
 *
 * <p>Threading: the trainer thread only.
 */
final class StepAssembly {

    /**
     * A closed batch.
     *
     * @param chunks the chunks to train, possibly none (a barrier with no batch open)
     * @param consumed the entries it takes off the backlog (its chunks, and a barrier that closed it with nothing
     *        passed over before it)
     * @param closedBy what closed it, for the logs
     */
    record Batch(List<TimedChunk> chunks, Set<ChunkSource.Entry> consumed, String closedBy) {
        /** The chunks as the learner takes them. */
        List<SequenceChunk> sequences() {
            return chunks.stream().map(TimedChunk::chunk).toList();
        }

        /** Events in the batch. */
        int events() {
            return chunks.stream().mapToInt(TimedChunk::size).sum();
        }
    }

    /** Where one partition's trained part of the log ends. */
    private static final class Lane {
        long lastRead;
        long position;
        /** Offsets past {@link #position} already trained (taken by lookahead); they are dropped when read. */
        final NavigableSet<Long> trainedAhead = new TreeSet<>();

        Lane(final long position) {
            this.position = position;
            this.lastRead = position - 1;
        }
    }

    private final int batchKeys;
    private final int lookahead;
    private final long windowMs;
    private final Deque<ChunkSource.Entry> backlog = new ArrayDeque<>();
    private final Map<Integer, Lane> lanes = new HashMap<>();

    /**
     * @param batchKeys at most this many chunks (of distinct keys) per batch
     * @param lookahead entries a batch may pass over; 0 closes it at the first repeated key
     * @param windowMs a batch takes no chunk handed over more than this long after its first one
     */
    StepAssembly(final int batchKeys, final int lookahead, final long windowMs) {
        this.batchKeys = batchKeys;
        this.lookahead = lookahead;
        this.windowMs = windowMs;
    }

    /** The batching of replicated training ({@link TrainerSettings#batchLookahead()}, the event-time window). */
    static StepAssembly replicated(final TrainerSettings settings) {
        return new StepAssembly(settings.batchKeys(), settings.batchLookahead(), settings.batchWindowMs());
    }

    /** The batching of split training: no lookahead, no window. */
    static StepAssembly split(final TrainerSettings settings) {
        return new StepAssembly(settings.batchKeys(), 0, Long.MAX_VALUE);
    }

    /**
     * Forgets {@code partition}'s entries and continues it from a restored position: the first offset not trained,
     * and the offsets after it that are.
     */
    void resumeAt(final int partition, final long offset, final long[] trainedAhead) {
        backlog.removeIf(e -> e.partition() == partition);
        final Lane lane = new Lane(offset);
        for (final long o : trainedAhead) {
            lane.trainedAhead.add(o);
        }
        lanes.put(partition, lane);
    }

    /**
     * Adds an entry read from the log, unless the state already includes it (before its partition's position, or
     * trained ahead). A partition not resumed starts at its first entry.
     *
     * @throws IllegalStateException when a partition's offsets go backwards
     */
    void add(final ChunkSource.Entry e) {
        final Lane lane = lanes.computeIfAbsent(e.partition(), p -> new Lane(e.offset()));
        if (e.offset() <= lane.lastRead) {
            throw new IllegalStateException("chunk log went backwards: offset " + e.offset() + " after " + lane.lastRead
                    + (e.partition() == 0 ? "" : " in partition " + e.partition()));
        }
        lane.lastRead = e.offset();
        if (e.offset() >= lane.position && !lane.trainedAhead.contains(e.offset())) {
            backlog.addLast(e);
        }
    }

    /** Drops the entries and positions of partitions this trainer no longer reads. */
    void forget(final Collection<Integer> partitions) {
        backlog.removeIf(e -> partitions.contains(e.partition()));
        partitions.forEach(lanes::remove);
    }

    /**
     * The batch the backlog closes (see the class comment), or null while it needs more of the log.
     *
     * @param quiet the log has nothing more for now: close what was read (split training only)
     */
    Batch closedBatch(final boolean quiet) {
        final List<TimedChunk> chunks = new ArrayList<>();
        final Set<ChunkSource.Entry> consumed = Collections.newSetFromMap(new IdentityHashMap<>());
        final Set<String> keys = new HashSet<>();
        final Set<String> passedKeys = new HashSet<>();
        int passed = 0;
        long windowEnd = Long.MAX_VALUE;
        for (final ChunkSource.Entry e : backlog) {
            if (e.isBarrier()) {
                if (passedKeys.isEmpty()) {
                    consumed.add(e); // nothing before it is left: the flush it records is done
                }
                return new Batch(chunks, consumed, "a barrier");
            }
            final TimedChunk chunk = e.chunk();
            if (e.timestampMs() > windowEnd) {
                return new Batch(chunks, consumed, "the window");
            }
            if (keys.contains(chunk.key()) || passedKeys.contains(chunk.key())) {
                if (passed == lookahead) {
                    return new Batch(chunks, consumed, "the lookahead");
                }
                passed++;
                passedKeys.add(chunk.key());
                continue;
            }
            if (chunks.isEmpty()) {
                windowEnd = saturatedAdd(e.timestampMs(), windowMs);
            }
            keys.add(chunk.key());
            chunks.add(chunk);
            consumed.add(e);
            if (chunks.size() == batchKeys) {
                return new Batch(chunks, consumed, "its keys");
            }
        }
        return quiet && !chunks.isEmpty() ? new Batch(chunks, consumed, "a quiet log") : null;
    }

    private static long saturatedAdd(final long a, final long b) {
        final long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    /** Takes the batch's entries off the backlog and moves their partitions' positions past what is trained. */
    void consume(final Batch batch) {
        backlog.removeIf(batch.consumed()::contains);
        final Set<Integer> touched = new HashSet<>();
        batch.consumed().forEach(e -> touched.add(e.partition()));
        for (final int partition : touched) {
            final Lane lane = lanes.get(partition);
            final OptionalLong pending = firstPending(partition);
            long next = pending.orElse(lane.lastRead + 1);
            for (final ChunkSource.Entry e : batch.consumed()) {
                if (e.partition() == partition && e.offset() > next) {
                    lane.trainedAhead.add(e.offset());
                }
            }
            while (pending.isEmpty() && lane.trainedAhead.remove(next)) {
                next++; // restored as trained but not read yet: add() drops it
            }
            lane.trainedAhead.headSet(next).clear();
            lane.position = next;
        }
    }

    /** Offset of {@code partition}'s first entry read and not trained yet, if any. */
    OptionalLong firstPending(final int partition) {
        for (final ChunkSource.Entry e : backlog) {
            if (e.partition() == partition) {
                return OptionalLong.of(e.offset());
            }
        }
        return OptionalLong.empty();
    }

    /** First offset of {@code partition} not trained yet (0 for a partition never read nor resumed). */
    long position(final int partition) {
        final Lane lane = lanes.get(partition);
        return lane == null ? 0 : lane.position;
    }

    /** Offsets of {@code partition} past its {@link #position} already trained, ascending. */
    long[] trainedAhead(final int partition) {
        final Lane lane = lanes.get(partition);
        return lane == null ? new long[0] : lane.trainedAhead.stream().mapToLong(Long::longValue).toArray();
    }

    /** Entries read and not trained yet (barriers included). */
    int size() {
        return backlog.size();
    }

    /** Events read and not trained yet. */
    int pendingEvents() {
        return backlog.stream().filter(e -> !e.isBarrier()).mapToInt(e -> e.chunk().size()).sum();
    }
}
