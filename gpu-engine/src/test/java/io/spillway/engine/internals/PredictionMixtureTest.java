package io.spillway.engine.internals;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.Prediction;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.mixture.ContextModel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The learner's prediction mixture (network and context model): what it publishes, that the network trains as
 * without it, that it learns, and that its state goes with the learner's (snapshots, rollbacks).
 */
class PredictionMixtureTest {
    private static final int VOCAB = 6;

    private static LearnerConfig.Builder config(final String cell, final String mixture) {
        return LearnerConfig.builder().cell(cell).vocabularySize(VOCAB).featureDimension(0).hiddenSize(24).layers(1)
                .optimizer("adam").backend("cpu").seed(3L).mixture(mixture);
    }

    /** Three keys each repeating its own short word with rare noise: easy for counts, harder for a tiny network. */
    private static List<List<SequenceChunk>> stream(final int steps, final long seed) {
        final int[][] words = {{0, 1, 2}, {3, 4, 3, 5}, {1, 1, 4}};
        final SplittableRandom rnd = new SplittableRandom(seed);
        final int[] at = new int[words.length];
        final List<List<SequenceChunk>> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            final List<SequenceChunk> batch = new ArrayList<>();
            for (int k = 0; k < words.length; k++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    final int type = rnd.nextInt(20) == 0 ? rnd.nextInt(VOCAB) : words[k][at[k]++ % words[k].length];
                    ev.add(SparseEvent.ofType(type));
                }
                batch.add(new SequenceChunk("key-" + k, ev));
            }
            out.add(batch);
        }
        return out;
    }

    /**
     * The network trains exactly as without a mixture (same losses, same weights, bitwise); the predictions carry
     * the network's loss beside the mixture's, and the mixture beats the network on this stream.
     */
    @ParameterizedTest
    @ValueSource(strings = {"egru", "lif"})
    void theNetworkTrainsAsWithoutAMixtureAndTheMixturePredictsBetter(final String cell) {
        double mixed = 0;
        double network = 0;
        try (SpikingLearner with = (SpikingLearner) Learners.create(config(cell, "context").build());
             SpikingLearner without = (SpikingLearner) Learners.create(config(cell, "none").build())) {
            int n = 0;
            for (final List<SequenceChunk> batch : stream(60, 1)) {
                final TrainingStep a = with.train(batch);
                final TrainingStep b = without.train(batch);
                assertThat(a.lossSum()).isEqualTo(b.lossSum());
                assertThat(a.predictions()).hasSameSizeAs(b.predictions());
                for (int i = 0; i < a.predictions().size(); i++) {
                    final Prediction p = a.predictions().get(i);
                    final Prediction q = b.predictions().get(i);
                    assertThat(p.networkLoss()).isEqualTo(q.loss()).isEqualTo(q.networkLoss());
                    assertThat(p.actualType()).isEqualTo(q.actualType());
                    assertThat(p.probability()).isBetween(0f, 1f);
                    mixed += p.loss();
                    network += p.networkLoss();
                    n++;
                }
                assertThat(a.predictionLossSum()).isCloseTo(a.predictions().stream().mapToDouble(Prediction::loss)
                        .sum(), org.assertj.core.api.Assertions.within(1e-9));
            }
            with.parameters().forEach((name, w) -> assertThat(without.parameters().get(name)).as(name)
                    .containsExactly(w));
            assertThat(with.mixturePairs()).isPositive();
            assertThat(without.mixturePairs()).isZero();
            assertThat(mixed / n).as("mixture's mean loss against the network's %s", network / n)
                    .isLessThan(0.8 * network / n);
        }
    }

    /** The mixture's class is the arg-max of w r + (1 - w) c: with a sure context model, the word's next letter. */
    @Test
    void predictionsAreTheMixturesClassAndProbability() {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config("egru", "context").build())) {
            List<Prediction> last = List.of();
            for (final List<SequenceChunk> batch : stream(80, 2)) {
                last = l.train(batch).predictions();
            }
            int right = 0;
            for (final Prediction p : last) {
                right += p.predictedType() == p.actualType() ? 1 : 0;
                // the probability published is the predicted class's, so the target's is at most it
                assertThat(Math.exp(-p.loss())).isLessThanOrEqualTo(p.probability() + 1e-6);
            }
            assertThat(right).isGreaterThan(last.size() * 3 / 4);
        }
    }

    /** Snapshots hold the mixture: a restored learner publishes bitwise what the original does, step after step. */
    @Test
    void aRestoredLearnerMixesAsTheOriginalDoes() throws IOException {
        final List<List<SequenceChunk>> batches = stream(40, 4);
        try (SpikingLearner a = (SpikingLearner) Learners.create(config("egru", "context").build());
             SpikingLearner b = (SpikingLearner) Learners.create(config("egru", "context").build())) {
            for (int s = 0; s < 20; s++) {
                a.train(batches.get(s));
            }
            b.readState(new DataInputStream(new ByteArrayInputStream(state(a))));
            assertThat(state(b)).isEqualTo(state(a));
            for (int s = 20; s < 40; s++) {
                assertThat(b.train(batches.get(s)).predictions()).isEqualTo(a.train(batches.get(s)).predictions());
            }
            assertThat(state(b)).isEqualTo(state(a));
        }
    }

    /** A step rolled back for a non-finite loss leaves the mixture as it was: the learner's state bytes are equal. */
    @Test
    void aDivergedStepLeavesTheMixtureUntouched() throws IOException {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config("lif", "context").featureDimension(2)
                .build())) {
            for (final List<SequenceChunk> batch : stream(5, 5)) {
                l.train(batch);
            }
            LearnerFaults.saturateLifInputWeights(l, VOCAB + 2, 24);
            final byte[] before = state(l);
            final int pairs = l.mixturePairs();
            // new keys and new contexts: the step would count new pairs
            final List<SparseEvent> odd = new ArrayList<>();
            for (final int type : new int[] {5, 5, 0, 5, 2}) {
                odd.add(new SparseEvent(type, new int[] {0, 1}, new float[] {1f, 1f}, SparseEvent.NO_LABEL));
            }
            final TrainingStep step = l.train(List.of(new SequenceChunk("key-0", odd), new SequenceChunk("new", odd)));
            assertThat(step.diverged()).isTrue();
            assertThat(l.mixturePairs()).isEqualTo(pairs);
            assertThat(state(l)).isEqualTo(before);
        }
    }

    /** Targets that are explicit labels are the network's alone; the events still count as context. */
    @Test
    void explicitLabelsAreTheNetworksPredictions() {
        try (SpikingLearner with = (SpikingLearner) Learners.create(config("egru", "context").build());
             SpikingLearner without = (SpikingLearner) Learners.create(config("egru", "none").build())) {
            for (int s = 0; s < 10; s++) {
                final List<SparseEvent> ev = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    ev.add(new SparseEvent(i % VOCAB, new int[0], new float[0], i % 2 == 0 ? (i + 1) % VOCAB
                            : SparseEvent.NO_LABEL));
                }
                final List<SequenceChunk> batch = List.of(new SequenceChunk("k", ev));
                final List<Prediction> a = with.train(batch).predictions();
                final List<Prediction> b = without.train(batch).predictions();
                for (int i = 0; i < a.size(); i++) {
                    final boolean label = ev.get(a.get(i).stepInChunk()).label() != SparseEvent.NO_LABEL
                            && a.get(i).actualType() == ev.get(a.get(i).stepInChunk()).label();
                    if (label) {
                        assertThat(a.get(i)).isEqualTo(b.get(i));
                    }
                }
            }
            assertThat(with.mixturePairs()).isPositive();
        }
    }

    /**
     * Across mixture settings: a state with a mixture restores into a learner without one (the network alone) and
     * the other way round (a fresh mixture), and into one of another order or fewer pairs (a fresh mixture, every
     * key's context empty); the network is the same each time.
     */
    @Test
    void statesCrossMixtureSettingsWithTheSameNetwork() throws IOException {
        final List<List<SequenceChunk>> batches = stream(10, 6);
        try (SpikingLearner mixed = (SpikingLearner) Learners.create(config("egru", "context").build());
             SpikingLearner plain = (SpikingLearner) Learners.create(config("egru", "none").build())) {
            for (final List<SequenceChunk> batch : batches) {
                mixed.train(batch);
                plain.train(batch);
            }
            for (final String other : List.of("none", "context", "context:order=2", "context:pairs=50")) {
                for (final SpikingLearner from : List.of(mixed, plain)) {
                    try (SpikingLearner to = (SpikingLearner) Learners.create(config("egru", other).build())) {
                        to.readState(new DataInputStream(new ByteArrayInputStream(state(from))));
                        from.parameters().forEach((name, w) -> assertThat(to.parameters().get(name)).containsExactly(w));
                        final boolean kept = from == mixed && other.equals("context");
                        assertThat(to.mixturePairs()).as("%s into %s", from.config().mixture(), other)
                                .isEqualTo(kept ? mixed.mixturePairs() : 0);
                        // and it trains on
                        assertThat(to.train(batches.get(0)).diverged()).isFalse();
                    }
                }
            }
        }
    }

    @Test
    void aVocabularyAboveTheBoundHasNoMixture() {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config("egru", "context").vocabularySize(
                io.spillway.engine.mixture.MixtureSpec.MAX_VOCABULARY + 1).hiddenSize(4).build())) {
            final TrainingStep step = l.train(List.of(new SequenceChunk("k", List.of(SparseEvent.ofType(7),
                    SparseEvent.ofType(4000), SparseEvent.ofType(7)))));
            assertThat(step.predictions()).allSatisfy(p -> assertThat(p.loss()).isEqualTo(p.networkLoss()));
            assertThat(l.mixturePairs()).isZero();
            assertThat(l.describe()).contains("mixture=none");
        }
    }

    @Test
    void aSingleEventTypeHasNoMixtureAndContextsStartEmpty() {
        try (SpikingLearner l = (SpikingLearner) Learners.create(config("egru", "context").vocabularySize(1).build())) {
            final TrainingStep step = l.train(List.of(new SequenceChunk("k", List.of(SparseEvent.ofType(0),
                    SparseEvent.ofType(0)))));
            assertThat(step.predictions()).hasSize(1);
            assertThat(l.mixturePairs()).isZero();
        }
        assertThat(ContextModel.historyLength(ContextModel.EMPTY_HISTORY)).isZero();
    }

    private static byte[] state(final SpikingLearner l) throws IOException {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            l.writeState(out);
        }
        return bytes.toByteArray();
    }
}
