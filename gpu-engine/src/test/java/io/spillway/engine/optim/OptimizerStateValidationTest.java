package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.optim.internals.IndexEncoding;
import io.spillway.engine.optim.internals.ValueEncoding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every optimizer's {@code readState} refuses a damaged state with an {@link InvalidStateException} naming the
 * field: non-finite moments (Adam's second moment may be +infinity, as training can leave it), window values and
 * Gram entries; a ring slot out of range or not following from the
 * step count; window indices outside the dimension, out of order or outside their block; row counts other than
 * 0 or k; negative counts; a Gram matrix that is not the window's. An undamaged state still restores.
 */
class OptimizerStateValidationTest {
    private static final int D = 40;
    private static final int M = 4;

    private static float[] gradient(final SplittableRandom r) {
        final float[] g = new float[D];
        for (int i = 0; i < D; i++) {
            g[i] = (float) r.nextGaussian();
        }
        return g;
    }

    /** The state of a fresh optimizer from {@code make} after {@code steps} steps on seeded gradients. */
    private static byte[] trained(final Supplier<Optimizer> make, final int steps) throws IOException {
        final Optimizer o = make.get();
        o.initialise(D);
        final float[] params = new float[D];
        final SplittableRandom r = new SplittableRandom(7);
        for (int s = 0; s < steps; s++) {
            o.step(params, gradient(r));
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        o.writeState(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static void restore(final Supplier<Optimizer> make, final byte[] state) throws IOException {
        final Optimizer o = make.get();
        o.initialise(D);
        o.readState(new DataInputStream(new ByteArrayInputStream(state)));
    }

    private static void assertRefused(final Supplier<Optimizer> make, final byte[] state, final String message) {
        assertThatThrownBy(() -> restore(make, state)).isInstanceOf(InvalidStateException.class)
                .hasMessageContaining(message);
    }

    /** Offset of what follows M-FAC's header (dimension, description, steps): the ring slot. */
    private static int mfacSlotOffset(final byte[] state) {
        final int utf = ((state[4] & 0xff) << 8) | (state[5] & 0xff);
        return 4 + 2 + utf + 8;
    }

    private static final Supplier<Optimizer> SPARSE = () -> new MFac(MFacSettings.sparse(0.01f, M, 0.1, 0.25), null);
    private static final Supplier<Optimizer> DENSE = () -> new MFac(MFacSettings.dense(0.01f, M, 0.1), null);

    @Test
    void undamagedStatesOfEveryOptimizerRestore() throws IOException {
        final List<Supplier<Optimizer>> all = List.of(SPARSE, DENSE, () -> new Adam(0.01f), () -> new Sgd(0.01f),
                () -> new Ggt(0.01f, M, 1e-2, 0.25, true, null),
                () -> new MFac(MFacSettings.sparse(0.01f, M, 0.1, 0.25).withBlocks(16, IndexEncoding.UINT16_BLOCK_RELATIVE,
                        ValueEncoding.BF16).withMomentum(0.5f, MFacSettings.MomentumVariant.NESTEROV), null),
                () -> new LowRankMFac(0.01f, M, 0.1, 2, List.of(new int[] {5, 6}, new int[] {1, 10}), 3));
        for (final Supplier<Optimizer> make : all) {
            for (final int steps : new int[] {0, 2, 9}) {
                restore(make, trained(make, steps));
            }
        }
    }

    @Test
    void mfacRingSlotOutOfRangeOrNotFollowingTheStepsIsRefused() throws IOException {
        final byte[] state = trained(SPARSE, 6);
        final int at = mfacSlotOffset(state);
        assertThat(ByteBuffer.wrap(state).getInt(at)).isEqualTo(6 % M);
        assertRefused(SPARSE, with(state, at, M), "M-FAC ring slot is 4, outside [0, 4)");
        assertRefused(SPARSE, with(state, at, -1), "M-FAC ring slot is -1");
        assertRefused(SPARSE, with(state, at, 3), "M-FAC ring slot is 3, but 6 steps put it at 2");
        assertRefused(SPARSE, withLong(state, at - 8, -6), "M-FAC step count is negative");
    }

    @Test
    void mfacWindowIndexOutOfRangeOrOrderIsRefused() throws IOException {
        final byte[] state = trained(SPARSE, 6);
        final int row0 = mfacSlotOffset(state) + 4 + 8 + 8 + 8 * M * M;
        final int k = ByteBuffer.wrap(state).getInt(row0);
        assertThat(k).isEqualTo(10);
        assertRefused(SPARSE, with(state, row0 + 4, D), "M-FAC window index 40 (row 0, entry 0) is not strictly increasing in [0, 40)");
        assertRefused(SPARSE, with(state, row0 + 4, -3), "M-FAC window index -3 (row 0, entry 0) is negative");
        // the second entry's index equal to the first's: out of order
        final int first = ByteBuffer.wrap(state).getInt(row0 + 4);
        assertRefused(SPARSE, with(state, row0 + 4 + 8, first), "M-FAC window index " + first + " (row 0, entry 1)");
        assertRefused(SPARSE, with(state, row0, k + 1), "M-FAC window row 0 has 11 entries; k is 10");
        assertRefused(SPARSE, with(state, row0, Integer.MIN_VALUE), "M-FAC window row 0 has -2147483648 entries");
        assertRefused(SPARSE, withFloat(state, row0 + 4 + 4, Float.NaN), "M-FAC window value (row 0, entry 0) is not finite");
        // a changed value leaves the Gram matrix disagreeing with the rows
        assertRefused(SPARSE, withFloat(state, row0 + 4 + 4, 1234.5f), "M-FAC Gram matrix entry");
    }

    @Test
    void mfacRowCountMustMatchTheStepsTaken() throws IOException {
        final byte[] state = trained(SPARSE, 2); // rows 2 and 3 never written
        final int row0 = mfacSlotOffset(state) + 4 + 8 + 8 + 8 * M * M;
        final int row2 = row0 + 2 * (4 + 8 * 10);
        assertThat(ByteBuffer.wrap(state).getInt(row2)).isZero();
        final byte[] grown = new byte[state.length + 8];
        System.arraycopy(state, 0, grown, 0, row2);
        ByteBuffer.wrap(grown).putInt(row2, 1).putInt(row2 + 4, 0).putFloat(row2 + 8, 0f);
        System.arraycopy(state, row2 + 4, grown, row2 + 12, state.length - row2 - 4);
        assertRefused(SPARSE, grown, "M-FAC window row 2 holds 1 entries, expected 0 after 2 steps");
    }

    @Test
    void blockRelativeWindowIndexOutsideItsBlockIsRefused() throws IOException {
        final Supplier<Optimizer> blocks = () -> new MFac(MFacSettings.sparse(0.01f, M, 0.1, 0.25)
                .withBlocks(16, IndexEncoding.UINT16_BLOCK_RELATIVE, ValueEncoding.FP32), null);
        final byte[] state = trained(blocks, 5);
        final int row0 = mfacSlotOffset(state) + 4 + 8 + 8 + 8 * M * M;
        assertRefused(blocks, with(state, row0 + 4, 17), "M-FAC window index 17 (row 0, entry 0) is outside its block 0");
    }

    @Test
    void mfacGramMatrixMustBeFiniteSymmetricAndTheWindows() throws IOException {
        final byte[] state = trained(SPARSE, 6);
        final int gram = mfacSlotOffset(state) + 4 + 8 + 8;
        assertRefused(SPARSE, withDouble(state, gram + 8, Double.NaN), "M-FAC Gram matrix entry (1, 0)");
        assertRefused(SPARSE, withDouble(state, gram + 8, 0.125), "not finite and symmetric");
        assertRefused(SPARSE, withDouble(state, gram, Double.POSITIVE_INFINITY), "M-FAC Gram matrix diagonal[0]");
        assertRefused(SPARSE, withDouble(state, gram, -1), "M-FAC Gram matrix diagonal[0]");
        assertRefused(SPARSE, withDouble(state, gram, 1e6), "M-FAC Gram matrix entry (0, 0) is 1000000.0, but the window's rows give");
        assertRefused(SPARSE, withDouble(state, gram - 8, Double.NaN), "M-FAC damping is not finite");
        assertRefused(SPARSE, withDouble(state, gram - 8, 0), "M-FAC damping is not positive");
        assertRefused(SPARSE, withLong(state, gram - 16, 5), "M-FAC Gram matrix counts 5 gradients, the optimizer 6 steps");
    }

    @Test
    void errorFeedbackAndDenseWindowsMustBeFinite() throws IOException {
        final byte[] sparse = trained(SPARSE, 6);
        final int errorAt = sparse.length - 8 * D;
        assertRefused(SPARSE, withDouble(sparse, errorAt + 8 * 3, Double.NEGATIVE_INFINITY),
                "M-FAC error feedback[3] is not finite");
        final byte[] dense = trained(DENSE, 6);
        final int rows = mfacSlotOffset(dense) + 4 + 8 + 8 + 8 * M * M;
        assertRefused(DENSE, withFloat(dense, rows + 4 * 5, Float.NaN), "M-FAC window row 0 value [5] is not finite");
    }

    @Test
    void anotherConfigurationIsAMismatchNotDamage() throws IOException {
        final byte[] state = trained(SPARSE, 3);
        assertThatThrownBy(() -> restore(() -> new MFac(MFacSettings.sparse(0.02f, M, 0.1, 0.25), null), state))
                .isInstanceOf(StateMismatchException.class).hasMessageContaining("does not fit");
        final byte[] adam = trained(() -> new Adam(0.01f), 3);
        final Optimizer wider = new Adam(0.01f);
        wider.initialise(D + 1);
        assertThatThrownBy(() -> wider.readState(new DataInputStream(new ByteArrayInputStream(adam))))
                .isInstanceOf(StateMismatchException.class).hasMessageContaining("dimension 40");
    }

    @Test
    void adamMomentsMustBeFiniteAndTheSecondNonNegative() throws IOException {
        final Supplier<Optimizer> adam = () -> new Adam(0.01f);
        final byte[] state = trained(adam, 3);
        assertRefused(adam, withFloat(state, 12 + 8 * 2, Float.NaN), "Adam first moment[2] is not finite");
        assertRefused(adam, withFloat(state, 12 + 8 * 2 + 4, Float.NaN), "Adam second moment[2] is negative or not a number: NaN");
        assertRefused(adam, withFloat(state, 12 + 8 * 2 + 4, -1f), "Adam second moment[2] is negative or not a number: -1.0");
        // an infinite second moment is what a gradient whose square overflows leaves: restored, it trains on
        restore(adam, withFloat(state, 12 + 8 * 2 + 4, Float.POSITIVE_INFINITY));
        assertRefused(adam, withLong(state, 4, -1), "Adam step count is negative");
        assertRefused(() -> new Sgd(0.01f), withLong(trained(() -> new Sgd(0.01f), 3), 4, -2), "SGD step count is negative");
    }

    @Test
    void ggtStepsMustAgreeWithItsWindow() throws IOException {
        final Supplier<Optimizer> ggt = () -> new Ggt(0.01f, M, 1e-2, 0.25, true, null);
        final byte[] state = trained(ggt, 5);
        assertRefused(ggt, withLong(state, 0, 4), "GGT counts 4 steps, its window 5");
    }

    @Test
    void lowRankSlotFactorsAndGramAreChecked() throws IOException {
        final Supplier<Optimizer> lowRank = () -> new LowRankMFac(0.01f, M, 0.1, 2,
                List.of(new int[] {5, 6}, new int[] {1, 10}), 3);
        final byte[] state = trained(lowRank, 6);
        final int slot = mfacSlotOffset(state);
        assertRefused(lowRank, with(state, slot, 9), "low-rank M-FAC ring slot is 9, outside [0, 4)");
        assertRefused(lowRank, with(state, slot, 1), "low-rank M-FAC ring slot is 1, but 6 steps put it at 2");
        final int error = slot + 4 + 8 + 8 + 8 * M * M;
        assertRefused(lowRank, withDouble(state, error, Double.NaN), "low-rank M-FAC error feedback[0] is not finite");
        // the last double is in the Q factors of the last slot
        assertRefused(lowRank, withDouble(state, state.length - 8, Double.NaN), "low-rank M-FAC factor of slot 3, tensor");
        final int factorsOfSlot0 = error + 8 * D + 8 * 6 * 2;
        assertRefused(lowRank, withDouble(state, factorsOfSlot0, 77.0), "M-FAC Gram matrix entry (0, 0)");
    }

    @Test
    void aTruncatedStateIsAnIoExceptionNeverAnotherKind() throws IOException {
        for (final Supplier<Optimizer> make : List.of(SPARSE, DENSE, () -> new Adam(0.01f),
                () -> new Ggt(0.01f, M, 1e-2, 0.25, true, null))) {
            final byte[] state = trained(make, 6);
            for (int cut = 0; cut < state.length; cut += 7) {
                final byte[] part = java.util.Arrays.copyOf(state, cut);
                assertThatThrownBy(() -> restore(make, part)).isInstanceOf(IOException.class);
            }
        }
    }

    private static byte[] with(final byte[] state, final int at, final int value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putInt(at, value);
        return copy;
    }

    private static byte[] withLong(final byte[] state, final int at, final long value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putLong(at, value);
        return copy;
    }

    private static byte[] withFloat(final byte[] state, final int at, final float value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putFloat(at, value);
        return copy;
    }

    private static byte[] withDouble(final byte[] state, final int at, final double value) {
        final byte[] copy = state.clone();
        ByteBuffer.wrap(copy).putDouble(at, value);
        return copy;
    }
}
