package io.spillway.engine.mixture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.spillway.engine.InvalidStateException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
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
        final ContextModel model = new ContextModel(3, 1, 100);
        long h = ContextModel.EMPTY_HISTORY;
        final int a = 0;
        final int b = 1;
        final double[] expected = {1.0 / 3, 1.0 / 6, 5.0 / 12, 4.0 / 15};
        final int[] stream = {a, b, a, a};
        for (int i = 0; i < stream.length; i++) {
            assertThat(model.probability(h, stream[i])).as("event %d", i).isCloseTo(expected[i], within(1e-15));
            h = model.update(h, stream[i]);
        }
        assertThat(ContextModel.historyLength(h)).isEqualTo(1);
    }

    @Test
    void probabilitiesSumToOneOverTheVocabularyAtEveryStepAndMatchTheDistribution() {
        final int vocabulary = 7;
        final ContextModel model = new ContextModel(vocabulary, 5, Integer.MAX_VALUE);
        final long[] keys = new long[3];
        final SplittableRandom rnd = new SplittableRandom(3);
        final double[] p = new double[vocabulary];
        for (int i = 0; i < 3_000; i++) {
            final int key = rnd.nextInt(keys.length);
            // a mostly repetitive stream, so the long contexts get counts
            final int s = rnd.nextDouble() < 0.7 ? (i / 3) % vocabulary : rnd.nextInt(vocabulary);
            model.distribution(keys[key], p);
            double sum = 0;
            for (int k = 0; k < vocabulary; k++) {
                assertThat(p[k]).isPositive().isEqualTo(model.probability(keys[key], k)); // bitwise, as documented
                sum += p[k];
            }
            assertThat(sum).as("step %d", i).isCloseTo(1.0, within(1e-12));
            keys[key] = model.update(keys[key], s);
        }
        assertThat(model.pairs()).isGreaterThan(vocabulary * 5);
    }

    /** Counts are shared, contexts are each key's own: a key that saw "a b" predicts b after a for another key. */
    @Test
    void keysShareCountsButNotHistories() {
        final ContextModel model = new ContextModel(3, 2, 1000);
        long first = ContextModel.EMPTY_HISTORY;
        for (int i = 0; i < 20; i++) {
            first = model.update(first, i % 2); // a b a b ...
        }
        final long second = model.update(ContextModel.EMPTY_HISTORY, 0);
        // second's context is its own "a" (first's last event was b, after which a would follow)
        assertThat(model.probability(second, 1)).isGreaterThan(0.8);
        assertThat(model.probability(first, 0)).isGreaterThan(0.8);
        assertThat(model.probability(second, 2)).isLessThan(0.05);
    }

    @Test
    void learnsADeterministicCycleToFewBitsPerEvent() {
        final ContextModel model = new ContextModel(97, 5, 1 << 20);
        long h = ContextModel.EMPTY_HISTORY;
        double bits = 0;
        final int n = 5_000;
        for (int i = 0; i < n; i++) {
            final int s = (i * 7) % 97;
            bits -= Math.log(model.probability(h, s)) / Math.log(2);
            h = model.update(h, s);
        }
        // log2(97) = 6.6 bits while nothing is known; then the cycle is predicted almost surely
        assertThat(bits / n).isLessThan(0.3);
    }

    /** At the bound no new pair is counted, old ones go on counting, and every distribution still sums to 1. */
    @Test
    void countsAtMostItsPairsAndStaysNormalised() {
        final ContextModel model = new ContextModel(11, 3, 40);
        final SplittableRandom rnd = new SplittableRandom(5);
        long h = ContextModel.EMPTY_HISTORY;
        final double[] p = new double[11];
        final int first = rnd.nextInt(11);
        h = model.update(h, first);
        for (int i = 0; i < 5_000; i++) {
            h = model.update(h, rnd.nextInt(11));
            model.distribution(h, p);
            assertThat(Arrays.stream(p).sum()).isCloseTo(1.0, within(1e-12));
        }
        assertThat(model.pairs()).isEqualTo(40);
        assertThat(model.pairsRefused()).isPositive();
        // the first pair counted is an order-0 one: its count kept growing (to about 1/11 of the events)
        assertThat(model.probability(ContextModel.EMPTY_HISTORY, first)).isGreaterThan(0.05);
    }

    /** A rolled-back step leaves every probability bit-identical to before it, and the state's bytes too. */
    @Test
    void rollbackTakesAStepBackExactly() throws IOException {
        final ContextModel model = new ContextModel(13, 4, 10_000);
        final SplittableRandom rnd = new SplittableRandom(9);
        long h = ContextModel.EMPTY_HISTORY;
        for (int i = 0; i < 2_000; i++) {
            h = model.update(h, rnd.nextInt(13));
        }
        model.beginStep();
        final byte[] before = state(model);
        final double[] p = new double[13];
        model.distribution(h, p);
        long g = h;
        for (int i = 0; i < 500; i++) {
            g = model.update(g, rnd.nextInt(13));
        }
        assertThat(model.pairs()).as("new pairs counted in the step").isGreaterThan(new ContextModel(13, 4, 10_000)
                .pairs());
        assertThat(state(model)).isNotEqualTo(before);
        model.rollbackStep();
        final double[] q = new double[13];
        model.distribution(h, q);
        assertThat(q).containsExactly(p);
        assertThat(state(model)).isEqualTo(before);
        final ContextModel restored = new ContextModel(13, 4, 10_000);
        restored.readState(new DataInputStream(new ByteArrayInputStream(state(model))));
        restored.distribution(h, q);
        assertThat(q).containsExactly(p);
        assertThat(restored.pairs()).isEqualTo(model.pairs());
    }

    /** Equal counts write equal bytes, however the tables were filled; a restored model predicts alike. */
    @Test
    void stateRoundTripsToTheSameBytesAndPredictions() throws IOException {
        final ContextModel model = new ContextModel(29, 5, 1 << 16);
        final SplittableRandom rnd = new SplittableRandom(11);
        final long[] keys = new long[4];
        for (int i = 0; i < 20_000; i++) {
            final int k = rnd.nextInt(4);
            keys[k] = model.update(keys[k], rnd.nextDouble() < 0.6 ? (i / 2) % 29 : rnd.nextInt(29));
        }
        final byte[] bytes = state(model);
        final ContextModel restored = new ContextModel(29, 5, 1 << 16);
        restored.readState(new DataInputStream(new ByteArrayInputStream(bytes)));
        assertThat(state(restored)).isEqualTo(bytes);
        final double[] p = new double[29];
        final double[] q = new double[29];
        for (final long h : keys) {
            model.distribution(h, p);
            restored.distribution(h, q);
            assertThat(q).containsExactly(p);
        }
        // and both go on alike
        long a = keys[0];
        long b = keys[0];
        for (int i = 0; i < 1_000; i++) {
            final int s = rnd.nextInt(29);
            assertThat(restored.probability(b, s)).isEqualTo(model.probability(a, s));
            a = model.update(a, s);
            b = restored.update(b, s);
        }
        assertThat(state(restored)).isEqualTo(state(model));
    }

    /** Rolling back steps that made new pairs and contexts, many times over, then going on, as if they never ran. */
    @Test
    void rolledBackStepsLeaveNoTraceInWhatFollows() throws IOException {
        final ContextModel stepped = new ContextModel(17, 5, 1 << 14);
        final ContextModel plain = new ContextModel(17, 5, 1 << 14);
        final SplittableRandom rnd = new SplittableRandom(21);
        long a = ContextModel.EMPTY_HISTORY;
        long b = ContextModel.EMPTY_HISTORY;
        for (int step = 0; step < 300; step++) {
            stepped.beginStep();
            if (step % 3 == 2) {
                long g = a;
                for (int i = 0; i < 40; i++) {
                    g = stepped.update(g, rnd.nextInt(17)); // new pairs, then taken back
                }
                stepped.rollbackStep();
                continue;
            }
            for (int i = 0; i < 20; i++) {
                final int s = rnd.nextDouble() < 0.5 ? (step + i) % 17 : rnd.nextInt(17);
                assertThat(stepped.probability(a, s)).isEqualTo(plain.probability(b, s));
                a = stepped.update(a, s);
                b = plain.update(b, s);
            }
        }
        assertThat(stepped.pairs()).isEqualTo(plain.pairs());
        assertThat(state(stepped)).isEqualTo(state(plain));
    }

    @Test
    void refusesDamagedOrForeignStatesAndIsEmptyAfter() throws IOException {
        final ContextModel model = new ContextModel(5, 2, 1000);
        long h = ContextModel.EMPTY_HISTORY;
        for (int i = 0; i < 200; i++) {
            h = model.update(h, i % 5);
        }
        final byte[] good = state(model);
        // another order
        assertThatThrownBy(() -> new ContextModel(5, 3, 1000).readState(input(good)))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("order");
        // more pairs than this model counts
        assertThatThrownBy(() -> new ContextModel(5, 2, 3).readState(input(good)))
                .isInstanceOf(io.spillway.engine.StateMismatchException.class).hasMessageContaining("at most 3");
        // a pair with an event type outside the vocabulary: the first pair's low bits set to 7
        final byte[] bad = good.clone();
        bad[16 + 4 + 7] = 7;
        final ContextModel victim = new ContextModel(5, 2, 1000);
        assertThatThrownBy(() -> victim.readState(input(bad))).isInstanceOf(InvalidStateException.class)
                .hasMessageContaining("not a pair");
        assertThat(victim.pairs()).isZero();
        // truncated
        assertThatThrownBy(() -> victim.readState(input(Arrays.copyOf(good, good.length - 3))))
                .isInstanceOf(IOException.class);
        assertThat(victim.pairs()).isZero();
    }

    /** A context counted the rescaling total times is halved between steps; the blend stays normalised. */
    @Test
    void halvesAContextsCountsBeforeTheyOverflow() {
        final ContextModel model = new ContextModel(3, 0, 100, 64);
        long h = ContextModel.EMPTY_HISTORY;
        model.beginStep();
        for (int i = 0; i < 64; i++) {
            h = model.update(h, i % 4 == 0 ? 1 : 0); // 48 zeros, 16 ones
        }
        final double before = model.probability(h, 0);
        model.beginStep();
        // (24 + 2/3) / (32 + 2) against (48 + 2/3) / (64 + 2): nearly the same proportions, half the weight
        assertThat(model.probability(h, 0)).isCloseTo((24 + 2.0 / 3) / 34, within(1e-12))
                .isCloseTo(before, within(0.02));
        final double[] p = new double[3];
        model.distribution(h, p);
        assertThat(Arrays.stream(p).sum()).isCloseTo(1.0, within(1e-12));
    }

    /** Counting without steps (as serving does), {@code rescale} halves a full context and takes nothing back. */
    @Test
    void rescalesWithoutStepsAsBeginStepDoes() {
        final ContextModel stepless = new ContextModel(3, 0, 100, 64);
        final ContextModel stepped = new ContextModel(3, 0, 100, 64);
        long a = ContextModel.EMPTY_HISTORY;
        long b = ContextModel.EMPTY_HISTORY;
        stepped.beginStep();
        for (int i = 0; i < 64; i++) {
            a = stepless.update(a, i % 4 == 0 ? 1 : 0);
            b = stepped.update(b, i % 4 == 0 ? 1 : 0);
        }
        stepless.rescale();
        stepped.beginStep();
        assertThat(stepless.probability(a, 0)).isEqualTo(stepped.probability(b, 0))
                .isCloseTo((24 + 2.0 / 3) / 34, within(1e-12));
        stepless.rescale(); // nothing more to halve
        assertThat(stepless.probability(a, 0)).isEqualTo(stepped.probability(b, 0));
    }

    /** Every history the model makes is valid; a longer one, stray bits or an event out of range are not. */
    @Test
    void knowsItsOwnHistories() {
        final ContextModel model = new ContextModel(6, 3, 100); // 3 bits a symbol
        long h = ContextModel.EMPTY_HISTORY;
        assertThat(model.validHistory(h)).isTrue();
        for (int i = 0; i < 10; i++) {
            h = model.history(h, (i * 5) % 6);
            assertThat(model.validHistory(h)).as("after %d events", i + 1).isTrue();
        }
        assertThat(model.validHistory(4L << 56)).as("longer than the order").isFalse();
        assertThat(model.validHistory((1L << 56) | (1L << 3))).as("a bit above its one event").isFalse();
        assertThat(model.validHistory((1L << 56) | 6)).as("event type 6 of 6").isFalse();
        assertThat(model.validHistory(-1L)).isFalse();
    }

    @Test
    void rejectsSymbolsOutsideTheVocabularyAndCodesThatDoNotFit() {
        final ContextModel model = new ContextModel(4, 2, 10);
        assertThatThrownBy(() -> model.update(ContextModel.EMPTY_HISTORY, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside [0, 4)");
        assertThatThrownBy(() -> new ContextModel(256, 7, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("56 bits");
        assertThat(ContextModel.maxOrderFor(256)).isEqualTo(6);
        assertThat(ContextModel.maxOrderFor(97)).isEqualTo(7);
    }

    private static byte[] state(final ContextModel model) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            model.writeState(out);
        }
        return bytes.toByteArray();
    }

    private static DataInputStream input(final byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }
}
