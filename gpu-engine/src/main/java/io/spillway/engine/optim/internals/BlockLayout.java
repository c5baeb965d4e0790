package io.spillway.engine.optim.internals;

/**
 * Block-wise Top-K layout (docs/spec-efcp-mfac.md §2.2): d cut into blocks of {@code blockSize}; each full block
 * keeps {@code ceil(density * blockSize)} entries and the short last block {@code ceil(density * len)}.
 */
public record BlockLayout(int dimension, int blockSize, int perBlock, int lastBlock) {

    public static BlockLayout of(final int dimension, final int blockSize, final double density) {
        if (blockSize <= 0 || dimension <= 0 || !(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("bad block layout: d=" + dimension + " block=" + blockSize + " density="
                    + density);
        }
        final int b = Math.min(blockSize, dimension);
        final int rem = dimension % b;
        final int lastLen = rem == 0 ? b : rem;
        return new BlockLayout(dimension, b, (int) Math.ceil(density * b), (int) Math.ceil(density * lastLen));
    }

    public int blocks() {
        return (dimension + blockSize - 1) / blockSize;
    }

    /** Entries per row. */
    public int entries() {
        return (blocks() - 1) * perBlock + lastBlock;
    }

    /** The block of entry {@code j} of a row. */
    public int blockOf(final int j) {
        return Math.min(j / perBlock, blocks() - 1);
    }

    /** Entries kept in {@code block}. */
    public int kept(final int block) {
        return block == blocks() - 1 ? lastBlock : perBlock;
    }

    /** Length of {@code block}. */
    public int length(final int block) {
        return block == blocks() - 1 ? dimension - block * blockSize : blockSize;
    }
}
