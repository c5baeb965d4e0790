package io.spillway.engine.checkpoint.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checkpoint records in a memory-mapped file in a chosen folder, for windows whose checkpoints exceed RAM.
 * Slots are 4 KiB-aligned; the mapping is an FFM segment, so it is not limited to 2 GiB. The file is
 * deleted on {@link #close()}.
 */
public final class MappedFileStore extends SegmentStore {
    private final Arena arena = Arena.ofShared();
    private final Path file;
    private final MemorySegment memory;

    /**
     * @param folder where the file is created (made if missing); the caller keeps ownership of the folder
     * @param capacity records held before slots are reused (> 0)
     * @param recordBytes largest record in bytes (> 0); slots add a 4-byte length and are 4 KiB aligned
     * @throws java.io.UncheckedIOException when the file cannot be created or mapped
     */
    public MappedFileStore(final Path folder, final int capacity, final int recordBytes) {
        super(capacity, recordBytes, 4096);
        try {
            Files.createDirectories(folder);
            this.file = Files.createTempFile(folder, "spillway-checkpoints-", ".bin");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                this.memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, totalBytes(), arena);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot create a checkpoint file of " + totalBytes() + " bytes in " + folder
                    + ": " + e.getMessage(), e);
        }
    }

    /** The backing file (deleted on close). */
    public Path file() {
        return file;
    }

    @Override
    MemorySegment memory() {
        return memory;
    }

    @Override
    public void close() {
        arena.close();
        try {
            Files.deleteIfExists(file);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot delete " + file, e);
        }
    }
}
