package io.spillway.app.trainer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A chunk group over a list (the entries of every partition in the order a consumer would hand them over): each
 * poll hands over the next entries of the owned partitions not read yet, up to {@code perPoll}; then {@code onEmptyPoll} runs at every poll that
 * has nothing. A reassignment queued with {@link #reassignAtNextPoll} happens inside the next poll, as Kafka's does.
 */
class ListChunkGroup implements ChunkGroup {
    private final List<ChunkSource.Entry> log;
    private final int partitions;
    private final Runnable onEmptyPoll;
    private final int perPoll;
    private final Map<Integer, Long> next = new HashMap<>();
    private final Deque<List<Integer>> reassignments = new ArrayDeque<>();
    private List<Integer> owned;
    private Assignment listener;
    final Map<Integer, Long> truncatedBefore = new HashMap<>();
    boolean closed;

    /** @param perPoll entries a poll hands over at most */
    ListChunkGroup(final List<ChunkSource.Entry> log, final int partitions, final List<Integer> owned,
                   final int perPoll, final Runnable onEmptyPoll) {
        this.perPoll = perPoll;
        this.log = log;
        this.partitions = partitions;
        this.owned = List.copyOf(owned);
        this.onEmptyPoll = onEmptyPoll;
    }

    /** At the start of the next poll, revokes what {@code owned} lacks and assigns it. */
    void reassignAtNextPoll(final List<Integer> newlyOwned) {
        reassignments.add(List.copyOf(newlyOwned));
    }

    @Override
    public void subscribe(final Assignment l) {
        this.listener = l;
    }

    @Override
    public List<ChunkSource.Entry> poll(final Duration timeout) {
        if (listener == null) {
            throw new IllegalStateException("poll before subscribe");
        }
        if (next.isEmpty() && reassignments.isEmpty()) {
            listener.assigned(owned); // the first poll joins the group
            owned.forEach(p -> next.put(p, 0L));
        }
        while (!reassignments.isEmpty()) {
            final List<Integer> now = reassignments.poll();
            final List<Integer> revoked = owned.stream().filter(p -> !now.contains(p)).toList();
            listener.revoked(revoked);
            revoked.forEach(next::remove);
            owned = now;
            owned.forEach(p -> next.putIfAbsent(p, 0L));
            listener.assigned(owned);
        }
        final List<ChunkSource.Entry> out = new ArrayList<>();
        for (final ChunkSource.Entry e : log) {
            if (out.size() < perPoll && owned.contains(e.partition()) && e.offset() >= next.get(e.partition())) {
                out.add(e);
                next.put(e.partition(), e.offset() + 1);
            }
        }
        if (out.isEmpty()) {
            onEmptyPoll.run();
        }
        return out;
    }

    @Override
    public List<Integer> assignment() {
        return owned;
    }

    @Override
    public long position(final int partition) {
        return next.get(partition);
    }

    @Override
    public int partitionCount() {
        return partitions;
    }

    @Override
    public void truncateBefore(final Map<Integer, Long> offsets) {
        truncatedBefore.putAll(offsets);
    }

    @Override
    public void close() {
        closed = true;
    }
}
