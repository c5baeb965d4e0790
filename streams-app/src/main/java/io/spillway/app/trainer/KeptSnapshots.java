package io.spillway.app.trainer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The snapshots of its model a trainer keeps on the snapshots topic: the newest {@link #KEPT}, so that when the
 * newest cannot be restored (damaged on the topic, or by a bug) a restart falls back to the one before it, and the
 * chunk log still holds everything after that one. Older snapshots are retired once a newer one is durable,
 * including those found on the topic at start. Not thread-safe: the trainer thread's.
 */
final class KeptSnapshots {
    /** Snapshots kept: the newest and its fallback. */
    static final int KEPT = 2;

    /**
     * A snapshot on the topic.
     *
     * @param position the chunk-log offset it stands at, -1 when not known
     */
    record Kept(long version, int chunks, long position) {
    }

    private final Deque<Kept> kept = new ArrayDeque<>();

    KeptSnapshots(final TrainerLoop.Resume resume) {
        reset(resume);
    }

    /** Forgets what was kept and starts from a restore: the versions older than it, then it. */
    void reset(final TrainerLoop.Resume resume) {
        kept.clear();
        for (final Map.Entry<Long, Integer> e : new TreeMap<>(resume.olderSnapshots()).entrySet()) {
            if (e.getKey() < resume.snapshotVersion()) {
                kept.addLast(new Kept(e.getKey(), e.getValue(), -1));
            }
        }
        if (resume.snapshotVersion() >= 0) {
            kept.addLast(new Kept(resume.snapshotVersion(), resume.snapshotChunks(), resume.chunkOffset()));
        }
    }

    /** Whether {@code version} is the newest snapshot kept. */
    boolean isNewest(final long version) {
        return !kept.isEmpty() && kept.peekLast().version() == version;
    }

    /**
     * Keeps a snapshot being published (a replay may publish a version again: same keys, same bytes) and returns
     * the ones to retire once it is durable.
     */
    List<Kept> add(final long version, final int chunks, final long position) {
        kept.removeIf(k -> k.version() == version);
        kept.addLast(new Kept(version, chunks, position));
        final List<Kept> retire = new ArrayList<>();
        while (kept.size() > KEPT) {
            retire.add(kept.pollFirst());
        }
        return retire;
    }

    /**
     * Chunk-log offset of the oldest snapshot kept, when {@link #KEPT} are: the log before it is no longer needed.
     * -1 while fewer are kept (the fallback is then the model's start, which needs the log from its beginning) or
     * when the offset is not known.
     */
    long oldestPosition() {
        return kept.size() < KEPT ? -1 : kept.peekFirst().position();
    }
}
