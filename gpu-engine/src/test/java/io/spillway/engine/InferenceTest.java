package io.spillway.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inference runs the training code: replaying, batch 1, the inputs the learner trained on (each key's pending event
 * and its chunk) under the weights each step started from gives, bitwise, the learner's prequential predictions.
 */
class InferenceTest {

    private static LearnerConfig config(final String cell) {
        // the network alone: what Inference scores (the learner's mixture is of its published predictions)
        return LearnerConfig.builder().mixture("none").cell(cell).vocabularySize(7).featureDimension(5).hiddenSize(24).layers(2)
                .optimizer("adam").learningRate(0.02f).backend("cpu").seed(11).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"egru", "lif"})
    void distributionsEqualTheLearnersPrequentialPredictionsBitwise(final String cellName) {
        final LearnerConfig config = config(cellName);
        final SplittableRandom random = new SplittableRandom(5);
        final Map<String, Inference.KeyState> states = new HashMap<>();
        final Map<String, SparseEvent> pending = new HashMap<>();
        int compared = 0;
        try (Learner learner = Learners.create(config); Inference inference = Inference.create(config)) {
            assertThat(inference.cellName()).isEqualTo(cellName);
            for (int step = 0; step < 12; step++) {
                final float[] weights = inference.flatten(learner.parameters());
                final List<SequenceChunk> batch = new ArrayList<>();
                final int keys = 1 + random.nextInt(4);
                for (int k = 0; k < keys; k++) {
                    final String key = "k" + ((step + k * 3) % 6);
                    if (batch.stream().anyMatch(c -> c.key().equals(key))) {
                        continue;
                    }
                    final List<SparseEvent> events = new ArrayList<>();
                    final int length = 1 + random.nextInt(6);
                    for (int t = 0; t < length; t++) {
                        events.add(event(random, config));
                    }
                    batch.add(new SequenceChunk(key, events));
                }
                final TrainingStep trained = learner.train(batch);
                assertThat(trained.diverged()).isFalse();
                final Map<String, List<Prediction>> byKey = new HashMap<>();
                trained.predictions().forEach(p -> byKey.computeIfAbsent(p.key(), x -> new ArrayList<>()).add(p));
                for (final SequenceChunk c : batch) {
                    final List<SparseEvent> inputs = new ArrayList<>();
                    if (pending.containsKey(c.key())) {
                        inputs.add(pending.get(c.key()));
                    }
                    inputs.addAll(c.events());
                    pending.put(c.key(), inputs.removeLast()); // no successor yet: the learner holds it back too
                    final List<Prediction> expected = byKey.getOrDefault(c.key(), List.of());
                    assertThat(expected).hasSize(inputs.size());
                    if (inputs.isEmpty()) {
                        continue;
                    }
                    final Inference.Scored scored = inference.score(weights,
                            states.getOrDefault(c.key(), inference.zeroState()), inputs, true);
                    states.put(c.key(), scored.state());
                    for (int i = 0; i < inputs.size(); i++) {
                        final Inference.Distribution d = scored.distributions().get(i);
                        final Prediction p = expected.get(i);
                        assertThat(d.argMax()).as("key %s input %d at step %d", c.key(), i, step)
                                .isEqualTo(p.predictedType());
                        assertThat(Float.floatToRawIntBits(d.probability()))
                                .as("key %s input %d at step %d: %s vs %s", c.key(), i, step, d.probability(),
                                        p.probability())
                                .isEqualTo(Float.floatToRawIntBits(p.probability()));
                        assertThat(d.top(3)[0]).isEqualTo(d.argMax());
                        double sum = 0;
                        for (final float f : d.probabilities()) {
                            sum += f;
                        }
                        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(40);
    }

    @ParameterizedTest
    @ValueSource(strings = {"egru", "lif"})
    void scoringInPiecesEqualsScoringAtOnceAndLeavesTheStateAlone(final String cellName) {
        final LearnerConfig config = config(cellName);
        final SplittableRandom random = new SplittableRandom(9);
        try (Learner learner = Learners.create(config); Inference inference = Inference.create(config)) {
            final float[] weights = inference.flatten(learner.parameters());
            final List<SparseEvent> events = new ArrayList<>();
            for (int t = 0; t < 9; t++) {
                events.add(event(random, config));
            }
            final Inference.KeyState zero = inference.zeroState();
            final Inference.Scored all = inference.score(weights, zero, events, true);
            final Inference.Scored first = inference.score(weights, zero, events.subList(0, 4), false);
            final Inference.Scored rest = inference.score(weights, first.state(), events.subList(4, 9), false);
            assertThat(first.distributions()).hasSize(1);
            assertThat(rest.distributions().getFirst().probabilities())
                    .isEqualTo(all.distributions().getLast().probabilities());
            assertThat(inference.distribution(weights, all.state()).probabilities())
                    .isEqualTo(all.distributions().getLast().probabilities());
            // the zero state was not changed by being scored from
            assertThat(inference.score(weights, zero, events, true).distributions().getLast().probabilities())
                    .isEqualTo(all.distributions().getLast().probabilities());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"egru", "lif"})
    void refusesEventsOutsideTheModel(final String cellName) {
        final LearnerConfig config = config(cellName);
        try (Learner learner = Learners.create(config); Inference inference = Inference.create(config)) {
            final float[] weights = inference.flatten(learner.parameters());
            assertThatThrownBy(() -> inference.score(weights, inference.zeroState(),
                    List.of(SparseEvent.ofType(7)), false)).hasMessageContaining("eventType 7 outside [0, 7)");
            assertThatThrownBy(() -> inference.score(weights, inference.zeroState(),
                    List.of(new SparseEvent(1, new int[] {5}, new float[] {1f}, SparseEvent.NO_LABEL)), false))
                    .hasMessageContaining("feature index 5");
            assertThatThrownBy(() -> inference.score(weights, inference.zeroState(), List.of(), false))
                    .hasMessageContaining("no events");
            assertThatThrownBy(() -> inference.flatten(Map.of())).hasMessageContaining("missing");
        }
    }

    private static SparseEvent event(final SplittableRandom random, final LearnerConfig config) {
        final int type = random.nextInt(config.vocabularySize());
        final int label = random.nextInt(5) == 0 ? random.nextInt(config.vocabularySize()) : SparseEvent.NO_LABEL;
        if (random.nextBoolean()) {
            return new SparseEvent(type, new int[0], new float[0], label);
        }
        final int a = random.nextInt(config.featureDimension() - 1);
        return new SparseEvent(type, new int[] {a, a + 1},
                new float[] {(float) random.nextGaussian(), (float) random.nextGaussian()}, label);
    }
}
