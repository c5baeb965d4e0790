package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ByteArrayDataOutputTest {

    private static void writeAll(final DataOutput out) throws IOException {
        out.writeInt(-7);
        out.writeLong(Long.MIN_VALUE + 3);
        out.writeFloat(Float.MIN_VALUE);
        out.writeDouble(-0.0);
        out.writeShort(0xBEEF);
        out.writeBoolean(true);
        out.writeUTF("key \u0000 ключ \uD83D\uDE00");
        for (int i = 0; i < 40_000; i++) {
            out.writeFloat(i * 0.5f);
        }
    }

    @Test
    void writesTheBytesDataOutputStreamWritesAndReadsThemBack() throws IOException {
        final ByteArrayOutputStream reference = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(reference)) {
            writeAll(out);
        }
        final ByteArrayDataOutput mine = new ByteArrayDataOutput();
        writeAll(mine);
        try (DataInputStream in = mine.input()) {
            assertThat(in.readAllBytes()).isEqualTo(reference.toByteArray());
        }
        mine.reset();
        mine.writeInt(5);
        mine.writeFloat(Float.intBitsToFloat(0x7fc01234)); // raw bits: a NaN payload survives (DataOutputStream
                                                           // would write the canonical NaN)
        try (DataInputStream in = mine.input()) {
            assertThat(in.readInt()).isEqualTo(5);
            assertThat(in.readInt()).isEqualTo(0x7fc01234);
            assertThat(in.available()).isZero();
        }
    }
}
