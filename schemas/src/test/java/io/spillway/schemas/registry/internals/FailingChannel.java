package io.spillway.schemas.registry.internals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * A real file channel that fails on demand the way a full disk does: a write stores part of its
 * bytes and then throws, or a force throws, or a truncate throws. Everything else goes to the file.
 */
final class FailingChannel extends FileChannel {
    /** What the next failure looks like. */
    enum Mode { NONE, SHORT_WRITE, FAILED_FORCE, SHORT_WRITE_AND_FAILED_TRUNCATE }

    private final FileChannel file;
    private volatile Mode mode = Mode.NONE;

    private FailingChannel(final FileChannel file) {
        this.file = file;
    }

    static FailingChannel open(final Path path) throws IOException {
        return new FailingChannel(StoreLog.FILE_CHANNELS.open(path));
    }

    void failNext(final Mode next) {
        this.mode = next;
    }

    @Override
    public int write(final ByteBuffer src, final long position) throws IOException {
        if (mode == Mode.SHORT_WRITE || mode == Mode.SHORT_WRITE_AND_FAILED_TRUNCATE) {
            final ByteBuffer half = src.slice(src.position(), Math.max(1, src.remaining() / 2));
            file.write(half, position);
            if (mode == Mode.SHORT_WRITE) {
                mode = Mode.NONE;
            }
            throw new IOException("No space left on device");
        }
        return file.write(src, position);
    }

    @Override
    public void force(final boolean metaData) throws IOException {
        if (mode == Mode.FAILED_FORCE) {
            mode = Mode.NONE;
            throw new IOException("Input/output error");
        }
        file.force(metaData);
    }

    @Override
    public FileChannel truncate(final long size) throws IOException {
        if (mode == Mode.SHORT_WRITE_AND_FAILED_TRUNCATE) {
            mode = Mode.NONE;
            throw new IOException("Read-only file system");
        }
        file.truncate(size);
        return this;
    }

    @Override
    public int read(final ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(final ByteBuffer[] dsts, final int offset, final int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public int write(final ByteBuffer src) throws IOException {
        return write(src, file.position());
    }

    @Override
    public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException {
        return file.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(final long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public long transferTo(final long position, final long count, final WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(final ReadableByteChannel src, final long position, final long count) throws IOException {
        return file.transferFrom(src, position, count);
    }

    @Override
    public int read(final ByteBuffer dst, final long position) throws IOException {
        return file.read(dst, position);
    }

    @Override
    public MappedByteBuffer map(final MapMode mapMode, final long position, final long size) throws IOException {
        return file.map(mapMode, position, size);
    }

    @Override
    public FileLock lock(final long position, final long size, final boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(final long position, final long size, final boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
