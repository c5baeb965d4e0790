package io.spillway.engine.optim.internals;

/**
 * How a sparse window stores a kept entry's coordinate: an absolute 32-bit index, or an unsigned 16-bit
 * index relative to its block (block sizes up to 65,536; never a silent wrap, docs/spec-efcp-mfac.md §2.5).
 */
public enum IndexEncoding {
    INT32(4),
    UINT16_BLOCK_RELATIVE(2);

    private final int bytes;

    IndexEncoding(final int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
