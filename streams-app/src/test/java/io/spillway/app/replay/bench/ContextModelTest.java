package io.spillway.app.replay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ContextModelTest {

    /**
     * Vocabulary {a, b, c}, order 1, the stream a b a a. By hand (Witten-Bell, P_-1 = 1/3):
     * a: nothing seen, 1/3. b after a: order 0 has N = 1, u = 1, n(b) = 0: (0 + 1/3) / 2 = 1/6; context "a" unseen.
     * a after b: order 0 N = 2, u = 2, n(a) = 1: (1 + 2/3) / 4 = 5/12; context "b" unseen.
     * a after a: order 0 N = 3, u = 2, n(a) = 2: (2 + 2/3) / 5 = 8/15; context "a" saw b once (N = 1, u = 1,
     * n(a) = 0): (0 + 8/15) / 2 = 4/15.
     */
    @Test
    void firstProbabilitiesAsComputedByHand() {
        final ContextModel model = new ContextModel(3, 1);
        final ContextModel.History h = new ContextModel.History();
        final int a = 0;
        final int b = 1;
        final double[] expected = {1.0 / 3, 1.0 / 6, 5.0 / 12, 4.0 / 15};
        final int[] stream = {a, b, a, a};
        for (int i = 0; i < stream.length; i++) {
            assertThat(model.probability(h, stream[i])).as("event %d", i).isCloseTo(expected[i], within(1e-15));
            model.update(h, stream[i]);
        }
        assertThat(h.length()).isEqualTo(1);
    }

    @Test
    void probabilitiesSumToOneOverTheVocabularyAtEveryStep() {
        final int vocabulary = 7;
        final ContextModel model = new ContextModel(vocabulary, 5);
        final ContextModel.History[] keys = {new ContextModel.History(), new ContextModel.History(),
                new ContextModel.History()};
        final SplittableRandom rnd = new SplittableRandom(3);
        final double[] p = new double[vocabulary];
        for (int i = 0; i < 3_000; i++) {
            final ContextModel.History h = keys[rnd.nextInt(keys.length)];
            // a mostly repetitive stream, so the long contexts get counts
            final int s = rnd.nextDouble() < 0.7 ? (i / 3) % vocabulary : rnd.nextInt(vocabulary);
            model.distribution(h, p);
            double sum = 0;
            for (final double v : p) {
                assertThat(v).isPositive();
                sum += v;
            }
            assertThat(sum).as("step %d", i).isCloseTo(1.0, within(1e-12));
            model.update(h, s);
        }
        assertThat(model.pairs()).isGreaterThan(vocabulary * 5);
    }

    /** Counts are shared, contexts are each key's own: a key that saw "a b" predicts b after a for another key. */
    @Test
    void keysShareCountsButNotHistories() {
        final ContextModel model = new ContextModel(3, 2);
        final ContextModel.History first = new ContextModel.History();
        for (int i = 0; i < 20; i++) {
            model.update(first, i % 2); // a b a b ...
        }
        final ContextModel.History second = new ContextModel.History();
        model.update(second, 0);
        // second's context is its own "a" (first's last event was b, after which a would follow)
        assertThat(model.probability(second, 1)).isGreaterThan(0.8);
        assertThat(model.probability(first, 0)).isGreaterThan(0.8);
        assertThat(model.probability(second, 2)).isLessThan(0.05);
    }

    @Test
    void learnsADeterministicCycleToFewBitsPerEvent() {
        final ContextModel model = new ContextModel(97, 5);
        final ContextModel.History h = new ContextModel.History();
        double bits = 0;
        final int n = 5_000;
        for (int i = 0; i < n; i++) {
            final int s = (i * 7) % 97;
            bits -= Math.log(model.probability(h, s)) / Math.log(2);
            model.update(h, s);
        }
        // log2(97) = 6.6 bits while nothing is known; then the cycle is predicted almost surely
        assertThat(bits / n).isLessThan(0.3);
    }

    @Test
    void rejectsSymbolsOutsideTheVocabularyAndCodesThatDoNotFit() {
        final ContextModel model = new ContextModel(4, 2);
        assertThatThrownBy(() -> model.update(new ContextModel.History(), 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside [0, 4)");
        assertThatThrownBy(() -> new ContextModel(256, 7)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("56 bits");
    }
}
