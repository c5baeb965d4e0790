package io.spillway.engine.optim.internals;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The last m gradients (rows, one per ring slot) as the preconditioners use them: m dot products with a
 * vector and a weighted sum of the rows. Rows never written are zero. Both operations accumulate in fp64
 * (docs/spec-efcp-mfac.md §1.3: fp32 loses the solve at small damping), in a fixed order, so results are
 * deterministic; for the same rows, the dense and sparse forms give bitwise-equal results.
 */
public interface GradientWindow {

    /** m, the number of slots. */
    int slots();

    /** Bytes the rows occupy (the accountant books exactly this). */
    long bytes();

    /** {@code out[r] = <row r, x>} for every slot; {@code x} is dense. */
    void dots(double[] x, double[] out);

    /** {@code acc[j] += sum over slots r, in slot order, of alpha[r] * row_r[j]}. */
    void addCombination(double[] alpha, double[] acc);

    void writeState(DataOutput out) throws IOException;

    void readState(DataInput in) throws IOException;
}
