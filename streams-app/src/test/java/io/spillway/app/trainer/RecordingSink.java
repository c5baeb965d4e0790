package io.spillway.app.trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.KafkaException;

/**
 * Keeps what the trainer publishes, in order, as a read_committed reader would see it: what is sent inside a
 * transaction appears when it commits, with the chunk-log positions it committed; a commit told to fail aborts.
 */
final class RecordingSink implements TrainingSink {
    record Sent(String topic, String key, SpecificRecord value) {
    }

    final List<Sent> sent = new ArrayList<>();
    /** The chunk-log positions of each committed transaction, in order. */
    final List<Map<Integer, Long>> commits = new ArrayList<>();
    int flushes;
    int aborts;
    /** Commits left before one fails (negative: none fails). */
    int failCommitAfter = -1;
    private List<Sent> open;

    @Override
    public void send(final String topic, final String key, final SpecificRecord value) {
        (open == null ? sent : open).add(new Sent(topic, key, value));
    }

    <T> List<T> of(final String topic, final Class<T> type) {
        return sent.stream().filter(s -> s.topic().equals(topic) && s.value() != null).map(s -> type.cast(s.value()))
                .toList();
    }

    @Override
    public void delete(final String topic, final String key) {
        (open == null ? sent : open).add(new Sent(topic, key, null));
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public void beginTransaction() {
        if (open != null) {
            throw new IllegalStateException("a transaction is open already");
        }
        open = new ArrayList<>();
    }

    @Override
    public void commitTransaction(final Map<Integer, Long> chunkPositions) {
        if (open == null) {
            throw new IllegalStateException("no transaction is open");
        }
        final List<Sent> records = open;
        open = null;
        if (failCommitAfter == 0) {
            aborts++;
            throw new KafkaException("commit failed (as the test asked)");
        }
        failCommitAfter--;
        sent.addAll(records);
        commits.add(Map.copyOf(chunkPositions));
    }

    /** Whether a transaction is open. */
    boolean inTransaction() {
        return open != null;
    }

    @Override
    public void close() {
    }
}
