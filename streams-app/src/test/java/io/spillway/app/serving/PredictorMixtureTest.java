package io.spillway.app.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SparseEvent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Served predictions are the network's mixed with a context model that learns from the events scored, as the
 * trainer's published ones are: an untrained network serves what the counts learned; look-aheads count nothing; after
 * an explicitly labelled event the network's prediction is served alone; mixture {@code none} serves the network.
 */
class PredictorMixtureTest {
    private static final int VOCAB = 6;
    private static final int[][] WORDS = {{0, 1, 2}, {3, 4, 3, 5}, {1, 1, 4}};

    private static LearnerConfig config(final String mixture) {
        return LearnerConfig.builder().vocabularySize(VOCAB).featureDimension(0).hiddenSize(16).backend("cpu")
                .seed(4).mixture(mixture).build();
    }

    private static Predictor predictor(final String mixture, final Map<String, float[]> weights) {
        return Predictor.fixed(PredictorSettings.of(Map.of(), "http://unused", Map.of(), Topics.defaults(), "m",
                config(mixture), ScaleOut.REPLICATE).withTopK(VOCAB), 1, weights);
    }

    private static Map<String, float[]> untrained() {
        try (Learner learner = Learners.create(config("none"))) {
            return learner.parameters();
        }
    }

    /** Mean served log-loss, bits, of each key's next word event over the second half of 60 rounds. */
    private static double lateBits(final Predictor p) {
        final NextEvent[] last = new NextEvent[WORDS.length];
        double bits = 0;
        int n = 0;
        for (int t = 0; t < 60; t++) {
            for (int k = 0; k < WORDS.length; k++) {
                final int type = WORDS[k][t % WORDS[k].length];
                if (t >= 30) {
                    bits -= Math.log(probabilityOf(last[k], type)) / Math.log(2);
                    n++;
                }
                last[k] = p.observe("key-" + k, List.of(SparseEvent.ofType(type)), new long[] {t}).getFirst();
            }
        }
        return bits / n;
    }

    private static double probabilityOf(final NextEvent e, final int type) {
        return e.top().stream().filter(c -> c.eventType() == type).findFirst().orElseThrow().probability();
    }

    @Test
    void servesWhatTheCountsLearnedBesideAnUntrainedNetwork() {
        final Map<String, float[]> weights = untrained();
        try (Predictor mixed = predictor("context", weights); Predictor network = predictor("none", weights)) {
            final double networkBits = lateBits(network);
            final double mixedBits = lateBits(mixed);
            assertThat(networkBits).isGreaterThan(2.0); // about log2(6): the untrained network knows nothing
            assertThat(mixedBits).isLessThan(1.0);
            assertThat(mixed.mixturePairs()).isPositive();
            assertThat(mixed.mixtureBytes()).isPositive();
            assertThat(network.mixturePairs()).isZero();
            assertThat(network.mixtureBytes()).isZero();
        }
    }

    @Test
    void lookAheadsCountNothingAndReadTheSameMixture() {
        try (Predictor p = predictor("context", untrained())) {
            NextEvent observed = null;
            for (int t = 0; t < 12; t++) {
                observed = p.observe("k", List.of(SparseEvent.ofType(t % 3)), new long[] {t}).getFirst();
            }
            final int pairs = p.mixturePairs();
            final NextEvent read = p.predict("k", VOCAB).orElseThrow();
            assertThat(read.top()).isEqualTo(observed.top());
            assertThat(read.probability()).isEqualTo(observed.probability());
            // after ...0 1 2 comes 0; after a further 0 and 1 comes 2: the look ahead reads the counts
            assertThat(read.predictedType()).isZero();
            final NextEvent ahead = p.predict("k", List.of(SparseEvent.ofType(0), SparseEvent.ofType(1)), VOCAB);
            assertThat(ahead.predictedType()).isEqualTo(2);
            assertThat(p.predict("fresh", List.of(SparseEvent.ofType(0), SparseEvent.ofType(1)), VOCAB)
                    .predictedType()).isEqualTo(2);
            assertThat(p.mixturePairs()).isEqualTo(pairs);
            assertThat(p.predict("k", VOCAB).orElseThrow().top()).isEqualTo(observed.top());
        }
    }

    @Test
    void aPredictorOfALearnerStartsFromItsCounts() {
        try (Learner learner = Learners.create(config("context"))) {
            final List<SparseEvent> word = new java.util.ArrayList<>();
            for (int t = 0; t < 30; t++) {
                word.add(SparseEvent.ofType(WORDS[1][t % 4]));
            }
            learner.train(List.of(new io.spillway.engine.SequenceChunk("a", word)));
            try (Predictor p = Predictor.of(PredictorSettings.of(Map.of(), "http://unused", Map.of(),
                    Topics.defaults(), "m", config("context"), ScaleOut.REPLICATE).withTopK(VOCAB), learner);
                 Predictor fresh = predictor("context", learner.parameters())) {
                assertThat(p.model().orElseThrow().version()).isEqualTo(learner.version());
                assertThat(p.mixturePairs()).isPositive();
                assertThat(fresh.mixturePairs()).isZero();
                // 3 4 3 -> 5: the learner's counts know it, a fresh mixture does not
                final List<SparseEvent> probe = List.of(SparseEvent.ofType(3), SparseEvent.ofType(4),
                        SparseEvent.ofType(3));
                final NextEvent known = p.predict("x", probe, VOCAB);
                assertThat(known.predictedType()).isEqualTo(5);
                assertThat(known.probability()).isGreaterThan(fresh.predict("x", probe, VOCAB).top().stream()
                        .filter(c -> c.eventType() == 5).findFirst().orElseThrow().probability());
            }
        }
    }

    @Test
    void afterALabelledEventTheNetworksPredictionIsServedAlone() {
        final Map<String, float[]> weights = untrained();
        try (Predictor mixed = predictor("context", weights); Predictor network = predictor("none", weights)) {
            final List<SparseEvent> events = List.of(SparseEvent.ofType(0), SparseEvent.ofType(1),
                    new SparseEvent(2, new int[0], new float[0], 5), SparseEvent.ofType(0));
            final List<NextEvent> a = mixed.observe("k", events, new long[] {1, 2, 3, 4});
            final List<NextEvent> b = network.observe("k", events, new long[] {1, 2, 3, 4});
            assertThat(a.get(2).top()).isEqualTo(b.get(2).top());
            assertThat(a.get(1).top()).isNotEqualTo(b.get(1).top());
            assertThat(mixed.predict("k", VOCAB).orElseThrow().top()).isEqualTo(a.get(3).top());
        }
    }
}
