package io.spillway.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrequentialEvaluationTest {
    private static final int KEYS = 5;

    /** Five keys, each cycling through its own 4-type pattern, interleaved round-robin. */
    private static List<Event> stream(final int n) {
        final SparseVector none = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
        final List<Event> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int k = i % KEYS;
            final int step = i / KEYS;
            out.add(Event.newBuilder().setEntityId("key" + k).setTimestampMs(i).setEventType((k + step) % 4 + k)
                    .setFeatures(none).build());
        }
        return out;
    }

    private static LearnerConfig config() {
        return LearnerConfig.builder().vocabularySize(12).featureDimension(0).hiddenSize(16).backend("cpu")
                .learningRate(0.01f).seed(3).build();
    }

    @Test
    void predictsEachEventBeforeLearningFromIt() {
        final List<Event> events = stream(1_000);
        final List<List<SequenceChunk>> batches = new ArrayList<>();
        final PrequentialEvaluation.Result r;
        try (Learner learner = Learners.create(config())) {
            r = new PrequentialEvaluation(8, 2).run(learner, events.iterator(), 0, batches::add);
        }
        assertThat(r.events()).isEqualTo(1_000);
        assertThat(r.targets()).isEqualTo(1_000 - KEYS); // each key's first event only primes its state
        assertThat(r.meanLossNats()).isFinite().isPositive();
        assertThat(r.bitsPerEvent()).isEqualTo(r.meanLossNats() / Math.log(2));
        assertThat(r.accuracy()).isBetween(0.0, 1.0);
        assertThat(r.steps()).isEqualTo(batches.size());

        // the first step's loss is the untrained model's: a fresh learner with the same seed reports it too
        try (Learner fresh = Learners.create(config())) {
            final TrainingStep first = fresh.train(batches.getFirst());
            assertThat(r.firstStepLossNats()).isEqualTo(first.meanLoss());
            // ...and every later prediction comes from a model that has learned only from earlier batches:
            // replaying the batches one by one reproduces the run's loss exactly
            double sum = first.lossSum();
            for (final List<SequenceChunk> b : batches.subList(1, batches.size())) {
                sum += fresh.train(b).lossSum();
            }
            assertThat(sum).isEqualTo(r.lossSumNats());
        }
        // a learnable stream: the late predictions beat the uniform guess by far
        try (Learner learner = Learners.create(config())) {
            final PrequentialEvaluation.Result longer = new PrequentialEvaluation(8, 2)
                    .run(learner, stream(20_000).iterator(), 0, null);
            assertThat(longer.meanLossNats()).isLessThan(r.meanLossNats());
        }
    }

    @Test
    void batchesHoldDistinctKeysAndKeepEachKeysOrder() {
        final List<Event> events = stream(997);
        final Map<String, List<Integer>> seen = new HashMap<>();
        try (Learner learner = Learners.create(config())) {
            new PrequentialEvaluation(7, 3).run(learner, events.iterator(), 900, batch -> {
                final Set<String> keys = new HashSet<>();
                assertThat(batch.size()).isBetween(1, 3);
                for (final SequenceChunk c : batch) {
                    assertThat(keys.add(c.key())).isTrue();
                    assertThat(c.events().size()).isBetween(1, 7);
                    c.events().forEach(e -> seen.computeIfAbsent(c.key(), k -> new ArrayList<>()).add(e.eventType()));
                }
            });
        }
        final Map<String, List<Integer>> expected = new HashMap<>();
        for (final Event e : events.subList(0, 900)) {
            expected.computeIfAbsent(e.getEntityId(), k -> new ArrayList<>()).add(e.getEventType());
        }
        assertThat(seen).isEqualTo(expected);
        assertThat(io.spillway.app.topology.SparseEvents.of(events.getFirst())).isEqualTo(SparseEvent.ofType(0));
    }
}
