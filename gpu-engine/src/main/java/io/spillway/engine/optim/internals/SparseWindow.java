package io.spillway.engine.optim.internals;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.backend.WindowKernels;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Objects;

/**
 * The EFCP sparse ring buffer (docs/spec-efcp-mfac.md §2.5): per slot, up to k kept entries as values plus
 * indices, {@code m * k * (value bytes + index bytes)} in all. Indices are absolute 32-bit, or unsigned
 * 16-bit relative to their block when the Top-K is block-wise (each block's entries then sit at fixed
 * positions of the row, so the block of an entry is known from its position). Entries of a row are in
 * increasing coordinate order.
 */
public final class SparseWindow implements GradientWindow, WindowKernels.SparseRows {
    private final int slots;
    private final int k;
    private final BlockLayout layout;
    private final IndexEncoding indexEncoding;
    private final ValueEncoding valueEncoding;
    private final float[] values32;
    private final short[] values16;
    private final int[] index32;
    private final char[] index16;
    private final int[] counts;
    private final WindowKernels kernels;

    /**
     * @param layout null for a global Top-K (then indices must be {@link IndexEncoding#INT32}), else the
     *     block layout whose positions the rows follow
     */
    public SparseWindow(final int slots, final int k, final BlockLayout layout, final IndexEncoding indexEncoding,
                        final ValueEncoding valueEncoding) {
        this(slots, k, layout, indexEncoding, valueEncoding, WindowKernels.JAVA);
    }

    /** @param kernels computes {@link #dots} and {@link #addCombination}: the backend's, never null */
    public SparseWindow(final int slots, final int k, final BlockLayout layout, final IndexEncoding indexEncoding,
                        final ValueEncoding valueEncoding, final WindowKernels kernels) {
        if (indexEncoding == IndexEncoding.UINT16_BLOCK_RELATIVE && (layout == null || layout.blockSize() > 65_536)) {
            throw new IllegalArgumentException("16-bit block-relative indices need a block-wise Top-K with blocks of at "
                    + "most 65,536 coordinates" + (layout == null ? " (the Top-K is global)" : " (blocks of "
                    + layout.blockSize() + ")"));
        }
        if (layout != null && layout.entries() != k) {
            throw new IllegalArgumentException("k " + k + " differs from the block layout's " + layout.entries());
        }
        this.slots = slots;
        this.k = k;
        this.layout = layout;
        this.indexEncoding = indexEncoding;
        this.valueEncoding = valueEncoding;
        final int n = Math.multiplyExact(slots, k);
        this.values32 = valueEncoding == ValueEncoding.FP32 ? new float[n] : null;
        this.values16 = valueEncoding == ValueEncoding.BF16 ? new short[n] : null;
        this.index32 = indexEncoding == IndexEncoding.INT32 ? new int[n] : null;
        this.index16 = indexEncoding == IndexEncoding.UINT16_BLOCK_RELATIVE ? new char[n] : null;
        this.counts = new int[slots];
        this.kernels = Objects.requireNonNull(kernels, "kernels");
    }

    /**
     * Writes slot {@code slot}: {@code count} entries with increasing absolute {@code indices}; with a block
     * layout, exactly the layout's positions (entry j of the row belongs to block {@code layout.blockOf(j)}).
     */
    public void write(final int slot, final int[] indices, final float[] values, final int count) {
        if (count > k) {
            throw new IllegalArgumentException(count + " entries exceed k = " + k);
        }
        final int base = slot * k;
        for (int j = 0; j < count; j++) {
            final int abs = indices[j];
            if (index32 != null) {
                index32[base + j] = abs;
            } else {
                final int rel = abs - layout.blockOf(j) * layout.blockSize();
                if (rel < 0 || rel >= layout.blockSize()) {
                    throw new IllegalArgumentException("entry " + j + " at " + abs + " is outside its block "
                            + layout.blockOf(j));
                }
                index16[base + j] = (char) rel;
            }
            if (values32 != null) {
                values32[base + j] = values[j];
            } else {
                values16[base + j] = ValueEncoding.toBf16(values[j]);
            }
        }
        counts[slot] = count;
    }

    /** Absolute coordinate of entry {@code j} of {@code slot}. */
    @Override
    public int index(final int slot, final int j) {
        final int p = slot * k + j;
        return index32 != null ? index32[p] : layout.blockOf(j) * layout.blockSize() + index16[p];
    }

    /** Stored value of entry {@code j} of {@code slot}. */
    @Override
    public float value(final int slot, final int j) {
        final int p = slot * k + j;
        return values32 != null ? values32[p] : ValueEncoding.fromBf16(values16[p]);
    }

    @Override
    public int count(final int slot) {
        return counts[slot];
    }

    @Override
    public int slots() {
        return slots;
    }

    @Override
    public long bytes() {
        return (long) slots * k * (indexEncoding.bytes() + valueEncoding.bytes());
    }

    @Override
    public void dots(final double[] x, final double[] out) {
        kernels.dots(this, x, out);
    }

    @Override
    public void addCombination(final double[] alpha, final double[] acc) {
        kernels.addCombination(this, alpha, acc);
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        for (int r = 0; r < slots; r++) {
            out.writeInt(counts[r]);
            for (int j = 0; j < counts[r]; j++) {
                out.writeInt(index(r, j));
                out.writeFloat(value(r, j));
            }
        }
    }

    /**
     * Restores what {@link #writeState} wrote; a row of more than k entries, or an entry outside its block, is an
     * {@link InvalidStateException}. The owner checks the rest against its dimension (see {@code MFac}).
     */
    @Override
    public void readState(final DataInput in) throws IOException {
        final int[] idx = new int[k];
        final float[] val = new float[k];
        for (int r = 0; r < slots; r++) {
            final int n = in.readInt();
            if (n < 0 || n > k) {
                throw new InvalidStateException("M-FAC window row " + r + " has " + n + " entries; k is " + k);
            }
            for (int j = 0; j < n; j++) {
                idx[j] = in.readInt();
                val[j] = in.readFloat();
                if (idx[j] < 0) {
                    throw new InvalidStateException("M-FAC window index " + idx[j] + " (row " + r + ", entry " + j
                            + ") is negative");
                }
                if (layout != null) {
                    final int block = layout.blockOf(j);
                    final long rel = (long) idx[j] - (long) block * layout.blockSize();
                    if (rel < 0 || rel >= layout.length(block)) {
                        throw new InvalidStateException("M-FAC window index " + idx[j] + " (row " + r + ", entry " + j
                                + ") is outside its block " + block);
                    }
                }
            }
            write(r, idx, val, n);
        }
    }
}
