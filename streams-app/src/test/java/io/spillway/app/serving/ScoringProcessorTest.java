package io.spillway.app.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

class ScoringProcessorTest {
    private static final LearnerConfig CONFIG = LearnerConfig.builder().vocabularySize(5).featureDimension(3)
            .hiddenSize(12).backend("cpu").seed(2).build();

    private static Event event(final String key, final int type, final int feature) {
        return Event.newBuilder().setEntityId(key).setTimestampMs(1).setEventType(type)
                .setFeatures(SparseVector.newBuilder().setIndices(List.of(feature)).setValues(List.of(0.5f)).build())
                .build();
    }

    @Test
    void forwardsThePredictorsPredictionPerEventAndSkipsWhatItCannotScore() {
        final Predictor predictor;
        final Predictor reference;
        try (Learner learner = Learners.create(CONFIG)) {
            final PredictorSettings s = PredictorSettings.of(Map.of(), "http://unused", Map.of(), Topics.defaults(),
                    "m", CONFIG, ScaleOut.REPLICATE);
            predictor = Predictor.fixed(s, 3, learner.parameters());
            reference = Predictor.fixed(s, 3, learner.parameters());
        }
        try (predictor; reference) {
            final MockProcessorContext<String, NextEvent> context = new MockProcessorContext<>();
            final ScoringProcessor processor = new ScoringProcessor(predictor, new EventLimits(5, 3, 8, 1 << 20));
            processor.init(context);
            final long rejectedBefore = ScoringProcessor.rejected().getOrDefault("event-type-out-of-range", 0L);
            final List<SparseEvent> history = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                context.setRecordMetadata("events", 0, 100 + i);
                processor.process(new Record<>("k", event("k", i % 5, i % 3), 1L));
                history.add(new SparseEvent(i % 5, new int[] {i % 3}, new float[] {0.5f}, SparseEvent.NO_LABEL));
            }
            context.setRecordMetadata("events", 0, 200);
            processor.process(new Record<>("k", event("k", 9, 0), 1L)); // outside the vocabulary
            final List<MockProcessorContext.CapturedForward<? extends String, ? extends NextEvent>> out =
                    context.forwarded();
            assertThat(out).hasSize(4);
            final NextEvent last = out.getLast().record().value();
            assertThat(last.key()).isEqualTo("k");
            assertThat(last.offset()).isEqualTo(103);
            assertThat(last.modelVersion()).isEqualTo(3);
            // one event per call, as the processor scores, equals all four in one call (network and mixture alike)
            final NextEvent expected = reference.observe("other", history, new long[history.size()]).getLast();
            assertThat(last.probability()).isEqualTo(expected.probability());
            assertThat(last.top()).isEqualTo(expected.top());
            assertThat(ScoringProcessor.rejected().get("event-type-out-of-range")).isEqualTo(rejectedBefore + 1);
        }
    }
}
