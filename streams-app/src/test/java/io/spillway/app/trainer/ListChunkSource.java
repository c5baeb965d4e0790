package io.spillway.app.trainer;

import java.util.List;

/** A log in a list: entries from the start offset on, all in the first poll; then {@code onEnd} runs. */
class ListChunkSource implements ChunkSource {
    private final List<Entry> log;
    private final Runnable onEnd;
    private long next;
    long truncatedBefore = -1;

    ListChunkSource(final List<Entry> log, final long start, final Runnable onEnd) {
        this.log = log;
        this.next = start;
        this.onEnd = onEnd;
    }

    @Override
    public List<Entry> poll(final java.time.Duration timeout) {
        final List<Entry> out = log.stream().filter(e -> e.offset() >= next).toList();
        if (out.isEmpty()) {
            onEnd.run();
        } else {
            next = out.getLast().offset() + 1;
        }
        return out;
    }

    @Override
    public long lag() {
        return log.size() - next;
    }

    @Override
    public long readPosition() {
        return next;
    }

    @Override
    public void seek(final long offset) {
        next = offset;
    }

    @Override
    public void truncateBefore(final long offset) {
        truncatedBefore = offset;
    }

    @Override
    public void close() {
    }
}
