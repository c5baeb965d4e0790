package io.spillway.app.topology;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Builds the dead letter of a rejected input record: its key and value bytes with the reason and the source
 * position in headers ({@link DeadLetterHeaders}), fitted to the dead-letter topic's record limit. The input topic
 * may accept a record (with its headers) that the dead-letter topic cannot take once the reason headers are
 * added; a send that fails there would fail the stream task on every restart, on the same record. So a dead letter
 * that would not fit goes out truncated (first the value, then the key, then the producer's own headers), with
 * headers giving the original sizes and the value's SHA-256; the whole record stays on the input topic at the
 * offset the headers name.
 */
final class DeadLetters {
    /** The smallest record limit a dead-letter topic may have: room for the headers and a useful prefix. */
    static final int MIN_RECORD_BYTES = 16 << 10;
    /** Room left for the record batch and per-record framing (varints, attributes), generously. */
    static final int FRAMING_BYTES = 1024;
    /** Counted per header on top of its name and value, for the varints of its lengths. */
    private static final int HEADER_OVERHEAD = 16;

    private DeadLetters() {
    }

    /**
     * @param record the rejected input record (its timestamp may be a substitute, see {@link RecordTimeGuard})
     * @param maxRecordBytes the dead-letter topic's {@code max.message.bytes}
     */
    static Record<byte[], byte[]> of(final Record<byte[], byte[]> record, final Rejection rejection,
                                     final SourcePosition source, final int maxRecordBytes) {
        final Headers own = new RecordHeaders();
        DeadLetterHeaders.add(own, rejection, source);
        final Long invalidTimestamp = RecordTimeGuard.invalidTimestamp(record.headers());
        if (invalidTimestamp != null) {
            DeadLetterHeaders.put(own, DeadLetterHeaders.ORIGINAL_TIMESTAMP, Long.toString(invalidTimestamp));
        }
        final Header[] producers = withoutOurs(record.headers().toArray());
        final byte[] key = record.key();
        final byte[] value = record.value();
        final int budget = maxRecordBytes - FRAMING_BYTES;
        if (size(key) + size(value) + size(own.toArray()) + size(producers) <= budget) {
            return new Record<>(key, value, record.timestamp(), merge(producers, own.toArray()));
        }
        // Too large: make room for the truncation headers, then keep what fits, value last.
        DeadLetterHeaders.put(own, DeadLetterHeaders.TRUNCATED, "true");
        DeadLetterHeaders.put(own, DeadLetterHeaders.ORIGINAL_KEY_BYTES, Integer.toString(size(key)));
        DeadLetterHeaders.put(own, DeadLetterHeaders.ORIGINAL_VALUE_BYTES, Integer.toString(size(value)));
        if (value != null) {
            DeadLetterHeaders.put(own, DeadLetterHeaders.ORIGINAL_VALUE_SHA256, sha256(value));
        }
        Header[] kept = producers;
        if (size(own.toArray()) + size(producers) > budget / 4) {
            DeadLetterHeaders.put(own, DeadLetterHeaders.HEADERS_DROPPED, Integer.toString(producers.length));
            kept = new Header[0];
        }
        int room = budget - size(own.toArray()) - size(kept);
        final byte[] keptKey = key == null || key.length <= room / 4 ? key : Arrays.copyOf(key, room / 4);
        room -= size(keptKey);
        final byte[] keptValue = value == null || value.length <= room ? value : Arrays.copyOf(value, Math.max(0, room));
        return new Record<>(keptKey, keptValue, record.timestamp(), merge(kept, own.toArray()));
    }

    /** The producer's headers without any that claim to be ours (a producer cannot forge a reason). */
    private static Header[] withoutOurs(final Header[] headers) {
        return Arrays.stream(headers).filter(h -> !h.key().startsWith(DeadLetterHeaders.PREFIX))
                .toArray(Header[]::new);
    }

    private static Headers merge(final Header[] first, final Header[] then) {
        final Headers out = new RecordHeaders(first);
        for (final Header h : then) {
            out.add(h);
        }
        return out;
    }

    private static int size(final byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static int size(final Header[] headers) {
        int n = 0;
        for (final Header h : headers) {
            n += h.key().getBytes(StandardCharsets.UTF_8).length + size(h.value()) + HEADER_OVERHEAD;
        }
        return n;
    }

    private static String sha256(final byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
