package io.spillway.app.serving.internals;

import io.spillway.app.Formats;
import io.spillway.app.serving.ModelUnavailableException;
import io.spillway.app.serving.NextEvent;
import io.spillway.app.serving.Predictor;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.EventValidator;
import io.spillway.app.topology.InputReader;
import io.spillway.app.topology.KeyFormats;
import io.spillway.app.topology.Rejection;
import io.spillway.app.topology.SparseEvents;
import io.spillway.app.topology.ValueFormats;
import io.spillway.app.trainer.KafkaTrainingSink;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.EventTypeProbability;
import io.spillway.schemas.avro.ServedPrediction;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a topic of events as they arrive: per poll, each key's events in offset order go through
 * {@link Predictor#observe}, and a {@link ServedPrediction} per event goes to the scores topic (Avro through the
 * registry, keyed by entity id). Offsets are committed after the predictions are flushed, so a restart scores from
 * there on (at least once). Keys and values are read as the trainer's topology reads them ({@link InputReader}: the
 * same key and value formats and field mapping), so the topic the app trains on scores as it is. Events the
 * topology would dead-letter (undecodable, or outside the model's limits) are skipped, logged and counted by reason
 * (one the registry cannot give a schema for now as {@code registry-unavailable}); nothing stops the loop.
 *
 * <p>Threading: runs on its own thread until {@link #close}.
 */
public final class TopicScorer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicScorer.class);

    private final Predictor predictor;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final InputReader reader;
    /** The reader's deserializers (their registry clients), closed with the scorer. */
    private final List<org.apache.kafka.common.serialization.Deserializer<?>> deserializers = new ArrayList<>();
    private final KafkaTrainingSink sink;
    private final EventValidator validator;
    private final String scoreTopic;
    private final String scoresTopic;
    private final BiConsumer<Long, Integer> latency;
    private final java.util.function.Consumer<String> rejections;
    private final ServedCategories categories;
    private final Map<String, AtomicLong> rejected = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong published = new AtomicLong();
    private final Thread thread;
    private volatile boolean closing;
    private volatile Exception failure;

    /**
     * @param latency called per poll with the nanoseconds its scoring took and the events it scored
     * @param rejections called with the reason of each event not scored
     * @param categories the trainer's published dictionary, for a mapping with a dictionary vocabulary
     */
    public TopicScorer(final Predictor predictor, final Map<String, Object> clientConfig, final String registryUrl,
                       final Map<String, Object> registryOverrides, final String scoreTopic, final String scoresTopic,
                       final String groupId, final Formats formats, final EventLimits limits,
                       final BiConsumer<Long, Integer> latency, final java.util.function.Consumer<String> rejections,
                       final ServedCategories categories) {
        this.predictor = predictor;
        this.categories = categories;
        this.scoreTopic = scoreTopic;
        this.scoresTopic = scoresTopic;
        this.validator = new EventValidator(limits);
        this.latency = latency;
        this.rejections = rejections;
        final Properties props = new Properties();
        props.putAll(clientConfig);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "spillway-serve-scorer");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        final Map<String, Object> serde = new HashMap<>(registryOverrides);
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
        final SpecificAvroDeserializer<Event> events = new SpecificAvroDeserializer<>(Event.class);
        events.configure(serde, false);
        deserializers.add(events);
        // keys and values read as the trainer's topology reads them: the same formats and mapping
        this.reader = new InputReader(new KeyFormats(formats.inputKeys(), formats.inputKeyField(),
                () -> avroReader(serde, true, deserializers)), new ValueFormats(formats.inputValues(),
                formats.mapping(), () -> avroReader(serde, false, deserializers)), events, limits, categories.ids());
        final Map<String, Object> producer = new HashMap<>(clientConfig);
        producer.put("client.id", "spillway-serve-scores");
        this.sink = new KafkaTrainingSink(producer, serde);
        this.thread = new Thread(this::run, "spillway-serve-scorer");
        thread.setDaemon(true);
    }

    private static GenericAvroDeserializer avroReader(final Map<String, Object> serde, final boolean isKey,
            final List<org.apache.kafka.common.serialization.Deserializer<?>> made) {
        final GenericAvroDeserializer d = new GenericAvroDeserializer();
        d.configure(serde, isKey);
        made.add(d);
        return d;
    }

    public void start() {
        thread.start();
    }

    private void run() {
        try {
            consumer.subscribe(List.of(scoreTopic));
            while (!closing) {
                final ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    continue;
                }
                if (predictor.model().isEmpty()) {
                    // nothing to score with yet: read these again once a version is served
                    for (final org.apache.kafka.common.TopicPartition p : records.partitions()) {
                        consumer.seek(p, records.records(p).getFirst().offset());
                    }
                    predictor.awaitModel(Duration.ofMillis(500));
                    continue;
                }
                score(records);
                sink.flush();
                consumer.commitSync();
            }
        } catch (final WakeupException e) {
            // closing
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final Exception e) {
            failure = e;
            LOG.error("Serving: scoring {} stopped", scoreTopic, e);
        }
    }

    private record Item(ConsumerRecord<byte[], byte[]> record, Event event, SparseEvent sparse) {
    }

    private void score(final ConsumerRecords<byte[], byte[]> records) {
        final Map<String, List<Item>> byKey = new LinkedHashMap<>();
        for (final ConsumerRecord<byte[], byte[]> r : records) {
            final Optional<Rejection> size = r.value() == null ? Optional.of(new Rejection("missing-value", "no value"))
                    : validator.checkSize(r.value().length);
            if (size.isPresent()) {
                reject(r, size.get());
                continue;
            }
            final InputReader.Outcome read;
            try {
                read = reader.read(r.topic(), r.headers(), r.key(), r.timestamp(), r.value());
            } catch (final RuntimeException e) {
                reject(r, new Rejection("malformed-record", e.toString()));
                continue;
            }
            if (read instanceof InputReader.Refused refused) {
                reject(r, refused.rejection());
                continue;
            }
            final String key = ((InputReader.Read) read).entityId();
            final Event event = ((InputReader.Read) read).event();
            final Optional<Rejection> invalid = validator.check(key, event);
            if (invalid.isPresent()) {
                reject(r, invalid.get());
                continue;
            }
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(new Item(r, event, SparseEvents.of(event)));
        }
        final long started = System.nanoTime();
        int events = 0;
        for (final Map.Entry<String, List<Item>> e : byKey.entrySet()) {
            final List<Item> items = e.getValue();
            final long[] offsets = items.stream().mapToLong(i -> i.record().offset()).toArray();
            final List<NextEvent> predictions;
            try {
                predictions = predictor.observe(e.getKey(), items.stream().map(Item::sparse).toList(), offsets);
            } catch (final ModelUnavailableException ex) {
                throw ex;
            } catch (final IllegalArgumentException ex) {
                items.forEach(i -> reject(i.record(), new Rejection("outside-model", ex.getMessage())));
                continue;
            }
            events += items.size();
            final long now = System.currentTimeMillis();
            for (int i = 0; i < items.size(); i++) {
                final Item item = items.get(i);
                final NextEvent p = predictions.get(i);
                final String[] names = categories.names(p);
                final List<EventTypeProbability> top = new ArrayList<>(p.top().size());
                for (int c = 0; c < p.top().size(); c++) {
                    final NextEvent.Candidate candidate = p.top().get(c);
                    top.add(EventTypeProbability.newBuilder().setEventType(candidate.eventType())
                            .setProbability(candidate.probability()).setCategory(names[c + 1]).build());
                }
                sink.send(scoresTopic, e.getKey(), ServedPrediction.newBuilder().setEntityId(e.getKey())
                        .setModelId(predictor.settings().modelId()).setModelVersion(p.modelVersion())
                        .setSourceTopic(item.record().topic()).setSourcePartition(item.record().partition())
                        .setSourceOffset(item.record().offset()).setAfterTimestampMs(item.event().getTimestampMs())
                        .setPredictedEventType(p.predictedType()).setProbability(p.probability()).setTop(top)
                        .setPredictedCategory(names[0]).setServedAtMs(now).build());
                published.incrementAndGet();
            }
        }
        latency.accept(System.nanoTime() - started, events);
    }

    private void reject(final ConsumerRecord<byte[], byte[]> r, final Rejection why) {
        rejected.computeIfAbsent(why.reason(), k -> new AtomicLong()).incrementAndGet();
        rejections.accept(why.reason());
        LOG.warn("Serving: not scoring {}-{}@{}: {} ({})", r.topic(), r.partition(), r.offset(), why.reason(),
                why.message());
    }

    /** Events skipped, by reason. */
    public Map<String, Long> rejected() {
        final Map<String, Long> out = new java.util.TreeMap<>();
        rejected.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Predictions sent to the scores topic. */
    public long published() {
        return published.get();
    }

    /** Why scoring stopped, or null while it runs. */
    public Exception failure() {
        return failure;
    }

    public boolean running() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close();
        sink.close();
        deserializers.forEach(org.apache.kafka.common.serialization.Deserializer::close);
    }
}
