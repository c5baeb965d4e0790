package io.spillway.app.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Input records that wait for the schema registry, in arrival order, in a state store with a changelog (so they
 * commit with the input offsets that consumed them) and mirrored in memory. A record waits when its writer schema
 * could not be fetched because the registry was unreachable; a later record of a key that has records waiting waits
 * behind them, so each key's events still reach its chunk in order, while other keys go on training. The stream
 * thread never blocks on the registry: the chunking processor retries the head of the queue from a punctuator.
 * Not thread-safe: one per stream task.
 */
final class RegistryWaitQueue {
    private static final byte FORMAT = 1;

    /**
     * A waiting record.
     *
     * @param storeKey its key in the store
     * @param key its entity id (the record key, decoded), or {@link ChunkingProcessor#KEY_UNKNOWN} while the key's
     *        own schema is not known
     */
    record Waiting(String storeKey, String key, Record<byte[], byte[]> record, SourcePosition source, int bytes) {
    }

    private final KeyValueStore<String, byte[]> store;
    private final long maxBytes;
    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private final Map<String, Integer> perKey = new HashMap<>();
    private long bytes;
    private long nextSequence;

    /** Reads what the store holds (after a restart or a task move), in arrival order. */
    RegistryWaitQueue(final KeyValueStore<String, byte[]> store, final long maxBytes) {
        this.store = store;
        this.maxBytes = maxBytes;
        try (KeyValueIterator<String, byte[]> all = store.all()) {
            while (all.hasNext()) {
                final KeyValue<String, byte[]> kv = all.next();
                final Waiting w = decode(kv.key, kv.value);
                remember(w);
                nextSequence = Long.parseLong(kv.key) + 1;
            }
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    /** Whether records of {@code key} wait: its next records must wait behind them. */
    boolean holds(final String key) {
        return perKey.containsKey(key);
    }

    /** Whether a record of this size may still wait (the queue's bytes stay within its bound). */
    boolean fits(final Record<byte[], byte[]> record) {
        return bytes + encodedSize(record, null) <= maxBytes;
    }

    void add(final String key, final Record<byte[], byte[]> record, final SourcePosition source) {
        // 19 digits: the store's (lexicographic) order is the arrival order
        final String storeKey = String.format("%019d", nextSequence++);
        final byte[] encoded = encode(key, record, source);
        store.put(storeKey, encoded);
        remember(new Waiting(storeKey, key, record, source, encoded.length));
    }

    Waiting head() {
        return queue.peekFirst();
    }

    void removeHead() {
        final Waiting w = queue.pollFirst();
        store.delete(w.storeKey());
        bytes -= w.bytes();
        perKey.computeIfPresent(w.key(), (k, n) -> n == 1 ? null : n - 1);
    }

    private void remember(final Waiting w) {
        queue.addLast(w);
        bytes += w.bytes();
        perKey.merge(w.key(), 1, Integer::sum);
    }

    private static int encodedSize(final Record<byte[], byte[]> r, final SourcePosition source) {
        int n = 1 + 4 + 8 + 8 + 4 + len(r.key()) * 4 + 4 + len(r.value()) + 4
                + (source == null ? 0 : source.topic().length() * 3) + 4;
        for (final Header h : r.headers()) {
            n += 4 + h.key().length() * 3 + 4 + len(h.value());
        }
        return n;
    }

    private static byte[] encode(final String key, final Record<byte[], byte[]> r, final SourcePosition source) {
        final byte[] topic = source.topic().getBytes(StandardCharsets.UTF_8);
        final byte[] entity = key.getBytes(StandardCharsets.UTF_8);
        final Header[] headers = r.headers().toArray();
        final byte[][] names = new byte[headers.length][];
        int size = 1 + 4 + entity.length + 4 + topic.length + 4 + 8 + 8 + 4 + len(r.key()) + 4 + len(r.value()) + 4;
        for (int i = 0; i < headers.length; i++) {
            names[i] = headers[i].key().getBytes(StandardCharsets.UTF_8);
            size += 4 + names[i].length + 4 + len(headers[i].value());
        }
        final ByteBuffer b = ByteBuffer.allocate(size).put(FORMAT);
        b.putInt(entity.length).put(entity).putInt(topic.length).put(topic).putInt(source.partition()).putLong(source.offset()).putLong(r.timestamp());
        putBytes(b, r.key());
        putBytes(b, r.value());
        b.putInt(headers.length);
        for (int i = 0; i < headers.length; i++) {
            b.putInt(names[i].length).put(names[i]);
            putBytes(b, headers[i].value());
        }
        return b.array();
    }

    private static Waiting decode(final String storeKey, final byte[] data) {
        final ByteBuffer b = ByteBuffer.wrap(data);
        if (b.get() != FORMAT) {
            throw new IllegalStateException("registry wait store entry " + storeKey + " has an unknown format");
        }
        final String entity = new String(getBytes(b), StandardCharsets.UTF_8);
        final String topic = new String(getBytes(b), StandardCharsets.UTF_8);
        final SourcePosition source = new SourcePosition(topic, b.getInt(), b.getLong());
        final long timestamp = b.getLong();
        final byte[] key = getBytes(b);
        final byte[] value = getBytes(b);
        final Headers headers = new RecordHeaders();
        final int n = b.getInt();
        for (int i = 0; i < n; i++) {
            headers.add(new String(getBytes(b), StandardCharsets.UTF_8), getBytes(b));
        }
        final Record<byte[], byte[]> record = new Record<>(key, value, timestamp, headers);
        return new Waiting(storeKey, entity, record, source, data.length);
    }

    private static int len(final byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static void putBytes(final ByteBuffer b, final byte[] bytes) {
        if (bytes == null) {
            b.putInt(-1);
        } else {
            b.putInt(bytes.length).put(bytes);
        }
    }

    private static byte[] getBytes(final ByteBuffer b) {
        final int n = b.getInt();
        if (n < -1 || n > b.remaining()) {
            throw new IllegalStateException("registry wait store entry has a bad length " + n);
        }
        if (n < 0) {
            return null;
        }
        final byte[] out = new byte[n];
        b.get(out);
        return out;
    }
}
