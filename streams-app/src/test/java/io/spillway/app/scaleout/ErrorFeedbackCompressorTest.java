package io.spillway.app.scaleout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.TensorDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ErrorFeedbackCompressorTest {
    private static final int SIZE = 500;

    @Test
    void nothingIsLostPublishedPlusResidualIsTheSumOfUpdates() {
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(0.05);
        final Random rnd = new Random(7);
        final double[] updates = new double[SIZE];
        final double[] published = new double[SIZE];
        for (int step = 0; step < 200; step++) {
            final TensorDelta u = randomUpdate(rnd, "w", SIZE, 0.3);
            add(updates, u);
            final ErrorFeedbackCompressor.Compressed c = ef.compress(List.of(u));
            c.published().forEach(p -> add(published, p));
            assertThat(c.published()).hasSize(1);
            assertThat(c.published().get(0).indices()).as("k = ceil(0.05 * 500)").hasSize(25);
        }
        assertThat(ef.residualEntries()).isPositive();
        ef.drain().forEach(p -> add(published, p));
        assertThat(ef.residualEntries()).isZero();
        assertThat(ef.residualNorm()).isZero();
        for (int i = 0; i < SIZE; i++) {
            assertThat(published[i]).as("entry " + i).isCloseTo(updates[i], org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void publishesTheLargestEntriesOfUpdatePlusResidual() {
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(0.5);
        // size 4, keep 2: the largest are index 3 (-4) and 1 (3)
        ErrorFeedbackCompressor.Compressed c = ef.compress(List.of(delta("w", 4, new int[] {0, 1, 2, 3},
                new float[] {1, 3, -2, -4})));
        assertThat(c.published().get(0).indices()).containsExactly(1, 3);
        assertThat(c.published().get(0).values()).containsExactly(3f, -4f);
        // residual now {1, 0, -2, 0}; an update of 1.5 at index 0 makes 2.5 there: index 0 and 2 win
        c = ef.compress(List.of(delta("w", 4, new int[] {0, 3}, new float[] {1.5f, 0.5f})));
        assertThat(c.published().get(0).indices()).containsExactly(0, 2);
        assertThat(c.published().get(0).values()).containsExactly(2.5f, -2f);
        // correction = published - update: +1 at 0, -2 at 2, -0.5 at 3
        assertThat(c.correction().get(0).indices()).containsExactly(0, 2, 3);
        assertThat(c.correction().get(0).values()).containsExactly(1f, -2f, -0.5f);
        assertThat(ef.drain().get(0).indices()).containsExactly(3);
    }

    @Test
    void updateAndCorrectionAddUpToThePublishedDeltaOnEveryIndex() {
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(0.1);
        final Random rnd = new Random(3);
        for (int step = 0; step < 20; step++) {
            final TensorDelta u = randomUpdate(rnd, "w", SIZE, 0.2);
            final ErrorFeedbackCompressor.Compressed c = ef.compress(List.of(u));
            final double[] local = new double[SIZE];
            add(local, u);
            c.correction().forEach(d -> add(local, d));
            final double[] pub = new double[SIZE];
            c.published().forEach(d -> add(pub, d));
            for (int i = 0; i < SIZE; i++) {
                assertThat(local[i]).isCloseTo(pub[i], org.assertj.core.data.Offset.offset(1e-6));
            }
        }
    }

    @Test
    void aWeightScalesWhatIsPublishedAndTheCorrectionRestoresIt() {
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(1.0);
        final ErrorFeedbackCompressor.Compressed c = ef.compress(List.of(delta("w", 3, new int[] {0, 2},
                new float[] {1f, -4f})), 0.25f);
        assertThat(c.published().get(0).values()).containsExactly(0.25f, -1f);
        assertThat(c.correction().get(0).values()).containsExactly(-0.75f, 3f);
        assertThatThrownBy(() -> ef.compress(List.of(), 0f)).hasMessageContaining("weight");
    }

    @Test
    void fullDensityPublishesTheUpdateItselfAndNeedsNoCorrection() {
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(1.0);
        final TensorDelta u = randomUpdate(new Random(1), "w", SIZE, 0.4);
        final ErrorFeedbackCompressor.Compressed c = ef.compress(List.of(u));
        assertThat(c.published().get(0).indices()).isEqualTo(u.indices());
        assertThat(c.published().get(0).values()).isEqualTo(u.values());
        assertThat(c.correction()).isEmpty();
        assertThat(ef.drain()).isEmpty();
    }

    @Test
    void tiesAreBrokenByLowerIndexAndTensorsAreKeptApart() {
        final boolean[] chosen = ErrorFeedbackCompressor.largest(new float[] {1, -1, 1, 0, 1}, 2);
        assertThat(chosen).containsExactly(true, true, false, false, false);
        final ErrorFeedbackCompressor ef = new ErrorFeedbackCompressor(0.5);
        ef.compress(List.of(delta("a", 2, new int[] {0, 1}, new float[] {1, 2}),
                delta("b", 2, new int[] {0, 1}, new float[] {4, 3})));
        final List<TensorDelta> rest = ef.drain();
        assertThat(rest).extracting(TensorDelta::tensor).containsExactly("a", "b");
        assertThat(rest.get(0).values()).containsExactly(1f);
        assertThat(rest.get(1).values()).containsExactly(3f);
        assertThatThrownBy(() -> ef.compress(List.of(delta("a", 3, new int[] {0}, new float[] {1}))))
                .hasMessageContaining("changed size");
        assertThatThrownBy(() -> new ErrorFeedbackCompressor(0)).hasMessageContaining("(0, 1]");
    }

    private static TensorDelta delta(final String name, final int size, final int[] idx, final float[] val) {
        return new TensorDelta(name, size, idx, val);
    }

    private static TensorDelta randomUpdate(final Random rnd, final String name, final int size, final double fill) {
        final TreeSet<Integer> idx = new TreeSet<>();
        while (idx.size() < fill * size) {
            idx.add(rnd.nextInt(size));
        }
        final List<Integer> sorted = new ArrayList<>(idx);
        final int[] i = sorted.stream().mapToInt(Integer::intValue).toArray();
        final float[] v = new float[i.length];
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) (rnd.nextGaussian() * 0.01);
        }
        return new TensorDelta(name, size, i, v);
    }

    private static void add(final double[] into, final TensorDelta d) {
        for (int k = 0; k < d.indices().length; k++) {
            into[d.indices()[k]] += d.values()[k];
        }
    }
}
