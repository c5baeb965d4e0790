package io.spillway.app.replay.bench;

import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes what the PyTorch peer needs to train exactly what Spillway trained: the batch schedule (keys as
 * small ids, event types as bytes) and the initial parameters. Little-endian; the layout is documented in
 * {@code bench/realdata_torch.py}.
 */
final class ScheduleFiles {
    static final int SCHEDULE_MAGIC = 0x53505742;
    static final int PARAMS_MAGIC = 0x53505750;

    private ScheduleFiles() {
    }

    /** Appends batches to a schedule file; {@link #close()} flushes it. Not thread-safe. */
    static final class ScheduleWriter implements AutoCloseable {
        private final OutputStream out;
        private final Map<String, Integer> keyIds = new HashMap<>();

        ScheduleWriter(final Path file, final int vocabulary) throws IOException {
            if (vocabulary > 256) {
                throw new IllegalArgumentException("event types are written as bytes; vocabulary " + vocabulary);
            }
            this.out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
            writeInt(SCHEDULE_MAGIC);
            writeInt(vocabulary);
        }

        void write(final List<SequenceChunk> batch) {
            try {
                writeInt(batch.size());
                for (final SequenceChunk c : batch) {
                    writeInt(keyIds.computeIfAbsent(c.key(), k -> keyIds.size()));
                    writeInt(c.events().size());
                    for (final SparseEvent e : c.events()) {
                        if (e.featureIndices().length > 0 || e.label() != SparseEvent.NO_LABEL) {
                            throw new IllegalArgumentException("the peer's schedule holds event types only");
                        }
                        out.write(e.eventType());
                    }
                }
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void writeInt(final int v) throws IOException {
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** Writes named fp32 tensors in their map order. */
    static void writeParameters(final Path file, final Map<String, float[]> tensors) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(Integer.reverseBytes(PARAMS_MAGIC));
            out.writeInt(Integer.reverseBytes(tensors.size()));
            for (final Map.Entry<String, float[]> t : tensors.entrySet()) {
                final byte[] name = t.getKey().getBytes(StandardCharsets.UTF_8);
                out.writeInt(Integer.reverseBytes(name.length));
                out.write(name);
                out.writeInt(Integer.reverseBytes(t.getValue().length));
                for (final float f : t.getValue()) {
                    out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(f)));
                }
            }
        }
    }
}
