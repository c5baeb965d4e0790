package io.spillway.schemas.registry.internals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only JSON-lines log of registry operations. Every append is forced to disk before it
 * returns, so an acknowledged registration survives a crash. A torn last line (crash during a write)
 * is dropped and cut off on open; a bad line anywhere else is corruption and fails the open.
 *
 * <p>Not thread-safe: the owning {@link SchemaStore} serializes calls.
 */
final class StoreLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreLog.class);

    private final Path file;
    private final ObjectMapper json;
    private final FileChannel channel;

    private StoreLog(final Path file, final ObjectMapper json, final FileChannel channel) {
        this.file = file;
        this.json = json;
        this.channel = channel;
    }

    /**
     * Opens (creating if needed) the log and replays its entries in order.
     *
     * @param file the log file
     * @param json mapper for the entries
     * @param replay receives each entry
     */
    static StoreLog open(final Path file, final ObjectMapper json, final Consumer<JsonNode> replay) throws IOException {
        final Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        final List<JsonNode> entries = new ArrayList<>();
        long goodLength = 0;
        if (Files.exists(file)) {
            final byte[] bytes = Files.readAllBytes(file);
            int start = 0;
            int lineNo = 0;
            while (start < bytes.length) {
                int end = start;
                while (end < bytes.length && bytes[end] != '\n') {
                    end++;
                }
                lineNo++;
                final boolean complete = end < bytes.length;
                final String line = new String(bytes, start, end - start, StandardCharsets.UTF_8);
                if (!line.isBlank()) {
                    try {
                        entries.add(json.readTree(line));
                    } catch (final JsonProcessingException e) {
                        if (complete) {
                            throw new IOException("schema store " + file + " is corrupt at line " + lineNo + ": "
                                + e.getOriginalMessage(), e);
                        }
                        LOG.warn("Schema store {}: dropping torn last line {} ({} bytes) left by an interrupted write",
                            file, lineNo, end - start);
                        break;
                    }
                }
                if (!complete) {
                    // A last line without newline parsed fine: keep it and terminate it below.
                    goodLength = end;
                    break;
                }
                start = end + 1;
                goodLength = start;
            }
        }
        final FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.READ);
        // Two registries appending to one log would hand out the same ids: refuse the second one.
        final boolean locked;
        try {
            locked = channel.tryLock() != null;
        } catch (final OverlappingFileLockException e) {
            channel.close();
            throw new IOException("schema store " + file + " is already open in this JVM", e);
        }
        if (!locked) {
            channel.close();
            throw new IOException("schema store " + file + " is locked by another process");
        }
        channel.truncate(goodLength);
        channel.position(goodLength);
        if (goodLength > 0 && !endsWithNewline(channel, goodLength)) {
            channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
            channel.force(false);
        }
        final StoreLog log = new StoreLog(file, json, channel);
        entries.forEach(replay);
        return log;
    }

    private static boolean endsWithNewline(final FileChannel channel, final long length) throws IOException {
        final ByteBuffer last = ByteBuffer.allocate(1);
        channel.read(last, length - 1);
        return last.get(0) == '\n';
    }

    /** Appends one entry and forces it to disk. */
    void append(final ObjectNode entry) {
        try {
            final byte[] line = (json.writeValueAsString(entry) + "\n").getBytes(StandardCharsets.UTF_8);
            final ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(false);
        } catch (final IOException e) {
            throw new SchemaRegistryException("cannot write schema store " + file + ": " + e.getMessage(),
                500, 50001, e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
