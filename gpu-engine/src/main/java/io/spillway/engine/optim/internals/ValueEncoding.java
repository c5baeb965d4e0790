package io.spillway.engine.optim.internals;

/** How a sparse window stores a kept value: fp32, or bf16 (the upper half of fp32, rounded to nearest even). */
public enum ValueEncoding {
    FP32(4),
    BF16(2);

    private final int bytes;

    ValueEncoding(final int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The value as stored and read back (identity for fp32). */
    public float round(final float v) {
        return this == FP32 ? v : fromBf16(toBf16(v));
    }

    static short toBf16(final float v) {
        final int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        final int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static float fromBf16(final short v) {
        return Float.intBitsToFloat((v & 0xffff) << 16);
    }
}
