package io.spillway.app.serving;

import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.EventValidator;
import io.spillway.app.topology.Rejection;
import io.spillway.app.topology.SparseEvents;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a stream inside an application's own Kafka Streams topology: each {@link Event} (key = entity id) advances
 * its key's state in a shared {@link Predictor} and a {@link NextEvent} (key = entity id, offset = the event's) is
 * forwarded downstream. An event the trainer's topology would dead-letter (key mismatch, a type or feature outside the
 * model's limits), or one that arrives before the predictor has a model version, forwards nothing; it is logged with
 * its reason and counted ({@link #rejected()}).
 *
 * <pre>{@code
 * builder.stream("events", Consumed.with(Serdes.String(), eventSerde))
 *        .process(ScoringProcessor.supplier(predictor, limits))
 *        .foreach((key, next) -> act(key, next.predictedType(), next.probability()));
 * }</pre>
 *
 * <p>The per-key states live in the predictor's memory (bounded, see {@link PredictorSettings}), not in a state store:
 * after a rebalance or restart a key starts again from the zero state. Kafka Streams processes a key on one thread at
 * a time, which is what {@link Predictor#observe} needs.
 */
public final class ScoringProcessor implements Processor<String, Event, String, NextEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(ScoringProcessor.class);
    private static final Map<String, AtomicLong> REJECTED = new ConcurrentHashMap<>();

    private final Predictor predictor;
    private final EventValidator validator;
    private ProcessorContext<String, NextEvent> context;

    public ScoringProcessor(final Predictor predictor, final EventLimits limits) {
        this.predictor = Objects.requireNonNull(predictor, "predictor");
        this.validator = new EventValidator(Objects.requireNonNull(limits, "limits"));
    }

    /** Processors sharing {@code predictor}, one per stream task. */
    public static ProcessorSupplier<String, Event, String, NextEvent> supplier(final Predictor predictor,
                                                                               final EventLimits limits) {
        return () -> new ScoringProcessor(predictor, limits);
    }

    @Override
    public void init(final ProcessorContext<String, NextEvent> processorContext) {
        this.context = processorContext;
    }

    @Override
    public void process(final Record<String, Event> record) {
        final long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        if (record.value() == null) {
            reject(record.key(), offset, new Rejection("missing-value", "no event"));
            return;
        }
        final Optional<Rejection> invalid = validator.check(record.key(), record.value());
        if (invalid.isPresent()) {
            reject(record.key(), offset, invalid.get());
            return;
        }
        final SparseEvent event = SparseEvents.of(record.value());
        final NextEvent next;
        try {
            next = predictor.observe(record.key(), List.of(event), new long[] {offset}).getFirst();
        } catch (final ModelUnavailableException ex) {
            reject(record.key(), offset, new Rejection("no-model", ex.getMessage()));
            return;
        } catch (final IllegalArgumentException ex) {
            reject(record.key(), offset, new Rejection("outside-model", ex.getMessage()));
            return;
        }
        context.forward(record.withValue(next));
    }

    private static void reject(final String key, final long offset, final Rejection why) {
        REJECTED.computeIfAbsent(why.reason(), k -> new AtomicLong()).incrementAndGet();
        LOG.warn("Not scoring the event of key {} at offset {}: {} ({})", key, offset, why.reason(), why.message());
    }

    /** Events not scored by any processor of this class in this JVM, by reason. */
    public static Map<String, Long> rejected() {
        final Map<String, Long> out = new java.util.TreeMap<>();
        REJECTED.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }
}
