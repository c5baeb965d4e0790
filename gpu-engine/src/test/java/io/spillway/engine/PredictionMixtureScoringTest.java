package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The prediction mixture outside the learner (what serving scores with): fed the same events in the same order, it
 * predicts what the learner published, bitwise; it learns from what it is shown; a copy of a learner's starts where
 * the learner's stands and leaves it alone.
 */
class PredictionMixtureScoringTest {
    private static final int VOCAB = 7;

    private static LearnerConfig config(final String cell) {
        return LearnerConfig.builder().cell(cell).vocabularySize(VOCAB).featureDimension(5).hiddenSize(24).layers(2)
                .optimizer("adam").learningRate(0.02f).backend("cpu").seed(11).build();
    }

    /**
     * Replays the learner's inputs (each key's pending event, then its chunk) under the weights each step started
     * from, as serving would score them one key at a time, and mixes: the published predictions come out bitwise,
     * those after an explicitly labelled event being the network's alone, as the learner's are.
     */
    @ParameterizedTest
    @ValueSource(strings = {"egru", "lif"})
    void mixesAsTheLearnerPublishesBitwise(final String cellName) {
        final LearnerConfig config = config(cellName);
        final SplittableRandom random = new SplittableRandom(5);
        final Map<String, Inference.KeyState> states = new HashMap<>();
        final Map<String, SparseEvent> pending = new HashMap<>();
        final Map<String, Long> contexts = new HashMap<>();
        final PredictionMixture mixture = PredictionMixture.create(config).orElseThrow();
        int mixed = 0;
        int labelled = 0;
        try (Learner learner = Learners.create(config); Inference inference = Inference.create(config)) {
            for (int step = 0; step < 16; step++) {
                final float[] weights = inference.flatten(learner.parameters());
                final List<SequenceChunk> batch = new ArrayList<>();
                final int keys = 1 + random.nextInt(4);
                for (int k = 0; k < keys; k++) {
                    final String key = "k" + ((step + k * 3) % 6);
                    if (batch.stream().noneMatch(c -> c.key().equals(key))) {
                        final List<SparseEvent> events = new ArrayList<>();
                        final int length = 1 + random.nextInt(6);
                        for (int t = 0; t < length; t++) {
                            events.add(event(random));
                        }
                        batch.add(new SequenceChunk(key, events));
                    }
                }
                final TrainingStep trained = learner.train(batch);
                assertThat(trained.diverged()).isFalse();
                final Map<String, List<Prediction>> byKey = new HashMap<>();
                trained.predictions().forEach(p -> byKey.computeIfAbsent(p.key(), x -> new ArrayList<>()).add(p));
                for (final SequenceChunk c : batch) { // the learner's order: batch, then step
                    final String key = c.key();
                    long context = contexts.containsKey(key) ? contexts.get(key)
                            : mixture.learn(PredictionMixture.EMPTY, null, c.events().getFirst().eventType());
                    final List<SparseEvent> inputs = new ArrayList<>();
                    if (pending.containsKey(key)) {
                        inputs.add(pending.get(key));
                    }
                    inputs.addAll(c.events());
                    final SparseEvent held = inputs.removeLast();
                    pending.put(key, held);
                    final List<Prediction> expected = byKey.getOrDefault(key, List.of());
                    assertThat(expected).hasSize(inputs.size());
                    if (!inputs.isEmpty()) {
                        final Inference.Scored scored = inference.score(weights,
                                states.getOrDefault(key, inference.zeroState()), inputs, true);
                        states.put(key, scored.state());
                        for (int i = 0; i < inputs.size(); i++) {
                            final Inference.Distribution network = scored.distributions().get(i);
                            final int next = (i + 1 < inputs.size() ? inputs.get(i + 1) : held).eventType();
                            final boolean label = inputs.get(i).label() != SparseEvent.NO_LABEL;
                            final Inference.Distribution served = label ? network
                                    : mixture.distribution(context, network);
                            final Prediction p = expected.get(i);
                            assertThat(served.argMax()).as("key %s input %d step %d", key, i, step)
                                    .isEqualTo(p.predictedType());
                            assertThat(Float.floatToRawIntBits(served.probability()))
                                    .as("key %s input %d step %d: %s vs %s", key, i, step, served.probability(),
                                            p.probability())
                                    .isEqualTo(Float.floatToRawIntBits(p.probability()));
                            assertThat(sum(served.probabilities())).isCloseTo(1.0,
                                    org.assertj.core.data.Offset.offset(1e-5));
                            context = mixture.learn(context, label ? null : network.probabilities(), next);
                            if (label) {
                                labelled++;
                            } else {
                                mixed++;
                            }
                        }
                    }
                    contexts.put(key, context);
                }
            }
        }
        assertThat(mixed).isGreaterThan(60);
        assertThat(labelled).isGreaterThan(5);
    }

    @Test
    void learnsAStreamTheNetworkKnowsNothingOf() {
        final PredictionMixture mixture = PredictionMixture.create(config("egru")).orElseThrow();
        final float[] uniform = new float[VOCAB];
        Arrays.fill(uniform, 1f / VOCAB);
        final Inference.Distribution network = new Inference.Distribution(0, uniform);
        final int[] word = {3, 1, 4, 1, 5};
        final long[] contexts = {PredictionMixture.EMPTY, PredictionMixture.EMPTY};
        for (int t = 0; t < 60; t++) {
            for (int k = 0; k < contexts.length; k++) {
                contexts[k] = mixture.learn(contexts[k], t == 0 ? null : uniform, word[(t + k) % word.length]);
            }
        }
        // key 0 has just seen ...1, 4, 1, 5 (t = 59): a 3 follows 5 in the word
        final Inference.Distribution after = mixture.distribution(contexts[0], network);
        assertThat(after.argMax()).isEqualTo(word[60 % word.length]);
        assertThat(after.probability()).isGreaterThan(0.6f); // the network alone: 1/7
        // a look ahead changes nothing counted: after "3" comes a 1
        final long ahead = mixture.advance(contexts[0], 3);
        final int pairs = mixture.pairs();
        assertThat(mixture.distribution(ahead, network).argMax()).isEqualTo(1);
        assertThat(mixture.pairs()).isEqualTo(pairs);
        assertThat(mixture.bytes()).isPositive();
    }

    @Test
    void aCopyOfTheLearnersStartsWhereItStandsAndLeavesItAlone() {
        final LearnerConfig config = config("egru");
        try (Learner learner = Learners.create(config); Inference inference = Inference.create(config)) {
            final List<SparseEvent> events = new ArrayList<>();
            for (int t = 0; t < 40; t++) {
                events.add(SparseEvent.ofType(t % 3)); // 0 1 2 0 1 2 ...
            }
            final TrainingStep step = learner.train(List.of(new SequenceChunk("a", events)));
            final long learnerPairs = step.memory().mixturePairs();
            final PredictionMixture copy = PredictionMixture.of(learner).orElseThrow();
            assertThat((long) copy.pairs()).isEqualTo(learnerPairs).isPositive();
            // it already knows the word: after 0, 1 comes 2
            final Inference.Distribution network = inference.distribution(inference.flatten(learner.parameters()),
                    inference.zeroState());
            final long context = copy.advance(copy.advance(PredictionMixture.EMPTY, 0), 1);
            assertThat(copy.distribution(context, network).argMax()).isEqualTo(2);
            // learning on in the copy counts there only
            long c = PredictionMixture.EMPTY;
            for (int t = 0; t < 20; t++) {
                c = copy.learn(c, t == 0 ? null : network.probabilities(), 6 - t % 4);
            }
            assertThat((long) copy.pairs()).isGreaterThan(learnerPairs);
            assertThat((long) PredictionMixture.of(learner).orElseThrow().pairs()).isEqualTo(learnerPairs);
        }
    }

    @Test
    void noneWhereTheLearnerPublishesTheNetworkAlone() {
        assertThat(PredictionMixture.create(LearnerConfig.builder().vocabularySize(VOCAB).mixture("none").build()))
                .isEmpty();
        assertThat(PredictionMixture.create(LearnerConfig.builder().vocabularySize(1).build())).isEmpty();
        final LearnerConfig none = LearnerConfig.builder().vocabularySize(VOCAB).featureDimension(0).hiddenSize(8)
                .mixture("none").backend("cpu").build();
        try (Learner learner = Learners.create(none)) {
            assertThat(PredictionMixture.of(learner)).isEmpty();
        }
    }

    @Test
    void refusesEventsAndDistributionsOutsideTheVocabulary() {
        final PredictionMixture mixture = PredictionMixture.create(config("egru")).orElseThrow();
        assertThatThrownBy(() -> mixture.learn(PredictionMixture.EMPTY, null, VOCAB))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event type 7 outside [0, 7)");
        assertThatThrownBy(() -> mixture.advance(PredictionMixture.EMPTY, -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> mixture.learn(PredictionMixture.EMPTY, new float[3], 1))
                .hasMessageContaining("a distribution over 3 event types, the mixture's has 7");
        assertThatThrownBy(() -> mixture.distribution(PredictionMixture.EMPTY,
                new Inference.Distribution(0, new float[VOCAB + 1]))).isInstanceOf(IllegalArgumentException.class);
        assertThat(mixture.pairs()).isZero();
    }

    private static double sum(final float[] p) {
        double s = 0;
        for (final float f : p) {
            s += f;
        }
        return s;
    }

    private static SparseEvent event(final SplittableRandom random) {
        final int type = random.nextInt(VOCAB);
        final int label = random.nextInt(6) == 0 ? random.nextInt(VOCAB) : SparseEvent.NO_LABEL;
        if (random.nextBoolean()) {
            return new SparseEvent(type, new int[0], new float[0], label);
        }
        final int a = random.nextInt(4);
        return new SparseEvent(type, new int[] {a, a + 1},
                new float[] {(float) random.nextGaussian(), (float) random.nextGaussian()}, label);
    }
}
