package io.spillway.engine.backend.cuda.internals;

/**
 * Shape of one row of the block-relative sparse ring buffer (docs/spec-efcp-mfac.md §2.5): a d-vector cut into
 * blocks of {@code blockSize}; each full block keeps {@code kb} entries and the short last block
 * {@code ceil(density * lastLength)}, with unsigned 16-bit block-relative indices.
 *
 * @param dimension d
 * @param blockSize B, at most 65,536 so a relative index fits an unsigned 16-bit value
 * @param kb entries kept per full block
 * @param lastK entries kept in the last block
 */
public record RingLayout(int dimension, int blockSize, int kb, int lastK) {

    public RingLayout {
        if (blockSize <= 0 || blockSize > 65_536) {
            throw new IllegalArgumentException("blockSize must be in 1..65536 for 16-bit relative indices: " + blockSize);
        }
        if (dimension <= 0 || kb <= 0 || kb > blockSize || lastK <= 0) {
            throw new IllegalArgumentException("bad ring layout d=" + dimension + " B=" + blockSize + " kb=" + kb
                    + " lastK=" + lastK);
        }
        if (lastK > kb || lastK > lastLength(dimension, blockSize)) {
            throw new IllegalArgumentException("lastK " + lastK + " exceeds kb or the last block's length");
        }
    }

    /** The layout for {@code density} (0..1] of every block. */
    public static RingLayout of(final int dimension, final int blockSize, final double density) {
        final int b = Math.min(blockSize, dimension);
        final int kb = Math.max(1, (int) Math.ceil(density * b));
        final int last = lastLength(dimension, b);
        final int lastK = Math.min(kb, Math.max(1, (int) Math.ceil(density * last)));
        return new RingLayout(dimension, b, kb, lastK);
    }

    private static int lastLength(final int dimension, final int blockSize) {
        final int rem = dimension % blockSize;
        return rem == 0 ? blockSize : rem;
    }

    public int blocks() {
        return (dimension + blockSize - 1) / blockSize;
    }

    public int lastLength() {
        return lastLength(dimension, blockSize);
    }

    /** Entries per window row. */
    public int k() {
        return (blocks() - 1) * kb + lastK;
    }
}
