package io.spillway.engine.internals;

import io.spillway.engine.Learner;
import io.spillway.engine.TensorDelta;

/** Faults to put a learner in, for the tests of what it does then. */
final class LearnerFaults {
    private LearnerFaults() {
    }

    /**
     * Sets every weight of LIF layer 0's input matrix ({@code rows x hidden}) near the largest float: an event with
     * three active input rows (its type and two features) then overflows the membrane to infinity, and the step's loss
     * is not finite.
     */
    static void saturateLifInputWeights(final Learner l, final int rows, final int hidden) {
        final int[] idx = new int[rows * hidden];
        final float[] val = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
            val[i] = 3e38f;
        }
        l.applyDelta(new TensorDelta("layer0.w_in", idx.length, idx, val));
    }
}
