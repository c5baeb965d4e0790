package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only JSON-lines log of registry operations, in the manner of a write-ahead log.
 *
 * <p>Each line is one JSON object {@code {"seq":N, ...entry..., "crc":C}}: {@code seq} counts the
 * entries from 1 (so a removed, repeated or reordered line is noticed), and {@code crc} is the CRC-32C
 * of the line's bytes up to the {@code ,"crc":} suffix with a closing brace, so a flipped bit is
 * noticed. Lines without both fields (written before they existed) are still read, but only before
 * the first checked line. Every append is forced to disk before it returns, so an acknowledged
 * change survives a crash.
 *
 * <p>Recovery on open: a last line without its newline is what a crash in the middle of an append
 * leaves; if it does not parse it is cut off with a warning. Anything else that is wrong (a bad line
 * in the middle, a bad last line that has its newline, an entry the replay refuses) is corruption:
 * the open fails with a {@link StoreCorruptException} naming {@code file:line}, and the file and its
 * lock are released. A failed append is cut back to the last good length, so the next append cannot
 * glue onto half a line; if even that fails the log refuses further appends.
 *
 * <p>Not thread-safe: the owning {@link SchemaStore} serializes calls.
 */
final class StoreLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreLog.class);
    private static final byte[] CRC_KEY = ",\"crc\":".getBytes(StandardCharsets.US_ASCII);
    /** A store this large is surely not a registry's: refuse it rather than read it into memory. */
    private static final long MAX_FILE_BYTES = 1L << 30;

    /** Opens the file's channel; tests substitute one that fails on demand. */
    @FunctionalInterface
    interface ChannelOpener {
        FileChannel open(Path file) throws IOException;
    }

    /** Receives each replayed entry (without seq and crc); throws IllegalArgumentException to refuse it. */
    @FunctionalInterface
    interface Replay {
        void apply(ObjectNode entry);
    }

    static final ChannelOpener FILE_CHANNELS = file -> FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);

    private final Path file;
    private final ObjectMapper json;
    private final FileChannel channel;
    private long length;
    private long entries;
    private String broken;

    private StoreLog(final Path file, final ObjectMapper json, final FileChannel channel, final long length,
                     final long entries) {
        this.file = file;
        this.json = json;
        this.channel = channel;
        this.length = length;
        this.entries = entries;
    }

    /**
     * Opens (creating if needed) and locks the log, and replays its entries in order.
     *
     * @throws StoreCorruptException for a corrupt line, naming file and line; the file is released
     * @throws IOException when the file cannot be read, written or locked
     */
    static StoreLog open(final Path file, final ObjectMapper json, final Replay replay, final ChannelOpener opener)
        throws IOException {
        final Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        final FileChannel channel = opener.open(file);
        try {
            lock(file, channel);
            final StoreLog log = replayAll(file, json, channel, replay);
            LOG.debug("Schema store {}: replayed {} entries ({} bytes)", file, log.entries, log.length);
            return log;
        } catch (final IOException | RuntimeException | Error e) {
            // Closing the channel also releases the lock, so a refused file can be fixed and reopened.
            closeQuietly(channel, e);
            throw e;
        }
    }

    private static void lock(final Path file, final FileChannel channel) throws IOException {
        // Two registries appending to one log would hand out the same ids: refuse the second one.
        final FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (final OverlappingFileLockException e) {
            throw new IOException("schema store " + file + " is already open in this JVM", e);
        }
        if (lock == null) {
            throw new IOException("schema store " + file + " is locked by another process");
        }
    }

    private static StoreLog replayAll(final Path file, final ObjectMapper json, final FileChannel channel,
                                      final Replay replay) throws IOException {
        final long size = channel.size();
        if (size > MAX_FILE_BYTES) {
            throw new IOException("schema store " + file + " is " + size + " bytes, more than the "
                + MAX_FILE_BYTES + " a registry store may hold");
        }
        final byte[] bytes = new byte[(int) size];
        final ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, buffer.position()) < 0) {
                throw new IOException("schema store " + file + " shrank while being read");
            }
        }
        final ObjectReader reader = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        long entries = 0;
        boolean checked = false;
        long goodLength = 0;
        boolean terminated = true;
        int start = 0;
        int lineNo = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            lineNo++;
            final boolean complete = end < bytes.length;
            final int next = complete ? end + 1 : end;
            if (isBlank(bytes, start, end)) {
                start = next;
                goodLength = next;
                continue;
            }
            final ObjectNode entry;
            try {
                entry = parse(reader, bytes, start, end);
            } catch (final IllegalArgumentException e) {
                if (complete) {
                    throw new StoreCorruptException(file, lineNo, e.getMessage());
                }
                LOG.warn("Schema store {}:{}: cutting off a torn last line ({} bytes, no newline) left by an"
                    + " interrupted write: {}", file, lineNo, end - start, e.getMessage());
                break;
            }
            final boolean hasCrc = entry.has("crc");
            try {
                if (hasCrc) {
                    verifyChecksum(bytes, start, end, entry);
                    checked = true;
                } else if (checked) {
                    throw new IllegalArgumentException("line has no checksum, but lines before it do");
                }
                final JsonNode seq = entry.remove("seq");
                if (hasCrc || seq != null) {
                    if (!hasCrc) {
                        throw new IllegalArgumentException("line has a sequence number but no checksum");
                    }
                    if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong()
                        || seq.asLong() != entries + 1) {
                        throw new IllegalArgumentException("sequence number " + seq + " where " + (entries + 1)
                            + " was expected (a line is missing, repeated or out of order)");
                    }
                }
                entry.remove("crc");
                replay.apply(entry);
            } catch (final IllegalArgumentException e) {
                throw new StoreCorruptException(file, lineNo, e.getMessage());
            } catch (final RuntimeException e) {
                throw new StoreCorruptException(file, lineNo, "entry cannot be applied: " + e);
            }
            entries++;
            start = next;
            goodLength = next;
            terminated = complete;
        }
        if (goodLength < size) {
            channel.truncate(goodLength);
        }
        long length = goodLength;
        if (!terminated) {
            // A last line that is whole but lost its newline: terminate it so the next append starts a line.
            channel.write(ByteBuffer.wrap(new byte[] {'\n'}), length);
            length++;
        }
        if (goodLength < size || !terminated) {
            channel.force(false);
        }
        return new StoreLog(file, json, channel, length, entries);
    }

    private static ObjectNode parse(final ObjectReader reader, final byte[] bytes, final int start, final int end) {
        final JsonNode node;
        try {
            node = reader.readTree(bytes, start, end - start);
        } catch (final JsonProcessingException e) {
            throw new IllegalArgumentException("not one JSON object: " + e.getOriginalMessage());
        } catch (final IOException e) {
            throw new IllegalArgumentException("unreadable line: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return (ObjectNode) node;
    }

    /** The line must end in exactly {@code ,"crc":<digits>}} with the CRC-32C of what precedes it plus "}". */
    private static void verifyChecksum(final byte[] bytes, final int start, final int end, final ObjectNode entry) {
        final JsonNode crcNode = entry.get("crc");
        int trimmedEnd = end;
        while (trimmedEnd > start && (bytes[trimmedEnd - 1] == ' ' || bytes[trimmedEnd - 1] == '\r')) {
            trimmedEnd--;
        }
        final int keyAt = lastIndexOf(bytes, start, trimmedEnd, CRC_KEY);
        if (keyAt < 0 || bytes[trimmedEnd - 1] != '}' || !crcNode.isIntegralNumber() || !crcNode.canConvertToLong()) {
            throw new IllegalArgumentException("checksum field is not where this store writes it");
        }
        final String digits = new String(bytes, keyAt + CRC_KEY.length, trimmedEnd - 1 - keyAt - CRC_KEY.length,
            StandardCharsets.US_ASCII);
        if (!digits.equals(Long.toString(crcNode.asLong()))) {
            throw new IllegalArgumentException("checksum field is not where this store writes it");
        }
        final long actual = crc(bytes, start, keyAt);
        if (actual != crcNode.asLong()) {
            throw new IllegalArgumentException("checksum mismatch (line says " + crcNode.asLong() + ", content has "
                + actual + "): the line was altered");
        }
    }

    private static long crc(final byte[] bytes, final int start, final int endExclusive) {
        final CRC32C crc = new CRC32C();
        crc.update(bytes, start, endExclusive - start);
        crc.update('}');
        return crc.getValue();
    }

    private static int lastIndexOf(final byte[] bytes, final int start, final int end, final byte[] needle) {
        for (int i = end - needle.length; i >= start; i--) {
            if (Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isBlank(final byte[] bytes, final int start, final int end) {
        for (int i = start; i < end; i++) {
            final byte b = bytes[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /**
     * Appends one entry (seq and crc are added here) and forces it to disk. On failure the file is cut
     * back to its length before the append, so nothing of the failed entry remains.
     *
     * @throws SchemaRegistryException (HTTP 500) when the entry could not be made durable
     */
    void append(final ObjectNode entry) {
        if (broken != null) {
            throw new SchemaRegistryException("schema store " + file + " refuses writes since an earlier failure ("
                + broken + "); restart the registry", 500, 50001, null);
        }
        final ObjectNode numbered = json.createObjectNode().put("seq", entries + 1);
        numbered.setAll(entry);
        final byte[] line = checkedLine(numbered);
        final long before = length;
        try {
            final ByteBuffer buffer = ByteBuffer.wrap(line);
            long position = before;
            while (buffer.hasRemaining()) {
                position += channel.write(buffer, position);
            }
            channel.force(false);
        } catch (final IOException | RuntimeException e) {
            rollBack(before, e);
            throw new SchemaRegistryException("cannot write schema store " + file + ": " + e.getMessage(),
                500, 50001, e);
        }
        length = before + line.length;
        entries++;
    }

    private void rollBack(final long before, final Exception failure) {
        try {
            channel.truncate(before);
            channel.force(false);
            LOG.warn("Schema store {}: an append failed ({}); cut the file back to {} bytes", file,
                failure.getMessage(), before);
        } catch (final IOException | RuntimeException e) {
            broken = "an append failed and the file could not be cut back to " + before + " bytes: " + e.getMessage();
            LOG.error("Schema store {}: {}; refusing further writes", file, broken, e);
        }
    }

    private byte[] checkedLine(final ObjectNode entry) {
        final byte[] body;
        try {
            body = json.writeValueAsBytes(entry);
        } catch (final JsonProcessingException e) {
            throw new IllegalStateException("cannot encode schema store entry", e);
        }
        final long crc = crc(body, 0, body.length - 1);
        final byte[] suffix = (",\"crc\":" + crc + "}\n").getBytes(StandardCharsets.US_ASCII);
        final byte[] line = Arrays.copyOf(body, body.length - 1 + suffix.length);
        System.arraycopy(suffix, 0, line, body.length - 1, suffix.length);
        return line;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static void closeQuietly(final FileChannel channel, final Throwable failure) {
        try {
            channel.close();
        } catch (final IOException e) {
            failure.addSuppressed(e);
        }
    }
}
