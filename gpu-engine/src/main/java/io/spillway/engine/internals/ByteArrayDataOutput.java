package io.spillway.engine.internals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * A {@link DataOutput} into a reusable byte array, big-endian as {@link DataOutputStream} (floats keep their raw
 * bits, NaN payloads included). For the
 * optimizer snapshot taken before every update: writing millions of floats one call at a time through a
 * stream chain was a tenth of a training step. Not thread-safe.
 */
final class ByteArrayDataOutput implements DataOutput {
    private byte[] buf = new byte[1 << 16];
    private int size;

    /** Forgets the content, keeps the capacity. */
    void reset() {
        size = 0;
    }

    /** Bytes written. */
    int size() {
        return size;
    }

    /** Copies what was written to {@code out}. */
    void writeTo(final DataOutput out) throws IOException {
        out.write(buf, 0, size);
    }

    /** Reads back what was written. */
    DataInputStream input() {
        return new DataInputStream(new ByteArrayInputStream(buf, 0, size));
    }

    private void ensure(final int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }

    @Override
    public void write(final int b) {
        ensure(1);
        buf[size++] = (byte) b;
    }

    @Override
    public void write(final byte[] b) {
        write(b, 0, b.length);
    }

    @Override
    public void write(final byte[] b, final int off, final int len) {
        ensure(len);
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }

    @Override
    public void writeBoolean(final boolean v) {
        write(v ? 1 : 0);
    }

    @Override
    public void writeByte(final int v) {
        write(v);
    }

    @Override
    public void writeShort(final int v) {
        ensure(2);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    @Override
    public void writeChar(final int v) {
        writeShort(v);
    }

    @Override
    public void writeInt(final int v) {
        ensure(4);
        buf[size++] = (byte) (v >>> 24);
        buf[size++] = (byte) (v >>> 16);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    @Override
    public void writeLong(final long v) {
        writeInt((int) (v >>> 32));
        writeInt((int) v);
    }

    @Override
    public void writeFloat(final float v) {
        writeInt(Float.floatToRawIntBits(v));
    }

    @Override
    public void writeDouble(final double v) {
        writeLong(Double.doubleToRawLongBits(v));
    }

    @Override
    public void writeBytes(final String s) {
        for (int i = 0; i < s.length(); i++) {
            write(s.charAt(i));
        }
    }

    @Override
    public void writeChars(final String s) {
        for (int i = 0; i < s.length(); i++) {
            writeChar(s.charAt(i));
        }
    }

    @Override
    public void writeUTF(final String s) {
        // modified UTF-8, exactly as DataOutputStream writes it
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(s);
        } catch (final IOException e) {
            throw new IllegalArgumentException("string too long for writeUTF", e);
        }
        write(bytes.toByteArray());
    }

    @Override
    public String toString() {
        return "ByteArrayDataOutput[" + size + " bytes]";
    }
}
