package io.spillway.app.it.hostile;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.it.TestApps;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.Topics;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * One Spillway app, on topics of its own (so one broker serves several), with the means to attack it and to check
 * that it survived: a producer of raw bytes, the generator of valid events, a {@link ShutdownWatch}, and waits that
 * fail at once, naming why, when the streams client or the trainer stopped.
 */
final class AppUnderAttack implements AutoCloseable {
    static final int VOCABULARY = 8;
    static final int PARTITIONS = 2;

    private final String bootstrap;
    private final String registryUrl;
    private final Topics topics;
    private final AppConfig config;
    private SpillwayApp app;
    private ShutdownWatch watch;
    /** Unasked-for stops seen by the watches of earlier runs (before {@link #restart()}). */
    private int earlierShutdowns;
    private final KafkaProducer<byte[], byte[]> producer;
    private final SpecificAvroSerializer<Event> serializer;
    private final SequenceGenerator generator;

    private AppUnderAttack(final String bootstrap, final String registryUrl, final Path stateDir, final String name,
                           final int keys) throws Exception {
        this.bootstrap = bootstrap;
        this.registryUrl = registryUrl;
        this.topics = topicsFor(name);
        final AppConfig base = TestApps.config(bootstrap, registryUrl, stateDir, VOCABULARY);
        this.config = base.toBuilder().applicationId(base.applicationId() + "-" + name).topics(topics)
                .partitions(PARTITIONS).build();
        this.app = SpillwayApp.start(config);
        this.watch = new ShutdownWatch(app::streamsState);
        TestApps.awaitLeaders(bootstrap, topics.all());
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // Above the broker's 1 MiB message limit, so that the broker, not this client, judges a value near it.
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L << 20);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 << 10);
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.serializer = new SpecificAvroSerializer<>(Event.class);
        serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
        this.generator = new SequenceGenerator(keys, VOCABULARY, 16, 0.05, 7);
    }

    /** Starts an app named {@code name} (its topics and application id) on the given broker and registry. */
    static AppUnderAttack start(final String bootstrap, final String registryUrl, final Path stateDir,
                                final String name, final int keys) throws Exception {
        return new AppUnderAttack(bootstrap, registryUrl, stateDir, name, keys);
    }

    /** The topics of the app named {@code name}. */
    static Topics topicsFor(final String name) {
        return new Topics(name + ".events", name + ".events-dlq", name + ".model-deltas", name + ".model-snapshots",
                name + ".training-metrics", name + ".predictions", name + ".training-chunks");
    }

    SpillwayApp app() {
        return app;
    }

    Topics topics() {
        return topics;
    }

    ShutdownWatch watch() {
        return watch;
    }

    /** Unasked-for stops of the streams client over this run and the runs before {@link #restart()}. */
    int shutdowns() {
        return earlierShutdowns + watch.shutdowns();
    }

    /**
     * Stops the app cleanly and starts it again with the same configuration (application id, state directory): it
     * resumes from its committed input offsets, its stores and its newest snapshot. Counters start again at 0.
     */
    void restart() throws Exception {
        watch.close();
        earlierShutdowns += watch.shutdowns();
        app.close();
        app = SpillwayApp.start(config);
        watch = new ShutdownWatch(app::streamsState);
    }

    String bootstrap() {
        return bootstrap;
    }

    String registryUrl() {
        return registryUrl;
    }

    KafkaProducer<byte[], byte[]> producer() {
        return producer;
    }

    SequenceGenerator generator() {
        return generator;
    }

    /** Confluent-framed Avro of {@code event}, with the schema registered under the events topic's subject. */
    byte[] serialize(final Event event) {
        return serializer.serialize(topics.events(), event);
    }

    /** Produces the generator's next {@code n} valid events, flushes, and returns where each landed. */
    List<RecordMetadata> produceValid(final int n) throws InterruptedException, ExecutionException {
        final List<Future<RecordMetadata>> sent = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            final Event e = generator.next();
            sent.add(producer.send(new ProducerRecord<>(topics.events(), Utils.utf8(e.getEntityId()), serialize(e))));
        }
        producer.flush();
        final List<RecordMetadata> out = new ArrayList<>(n);
        for (final Future<RecordMetadata> f : sent) {
            out.add(f.get());
        }
        return out;
    }

    /** The input partition the Java producer's default partitioner picks for {@code key}. */
    int partitionOf(final byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % PARTITIONS;
    }

    /**
     * Waits for {@code condition}; fails at once when the streams client stopped or the trainer died meanwhile, so a
     * test fails with the reason rather than a timeout.
     */
    void await(final String what, final Duration timeout, final BooleanSupplier condition) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertAlive(what);
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; " + figures());
            }
            Thread.sleep(50);
        }
        assertAlive(what);
    }

    /** Fails when the streams client stopped on its own or the trainer died. */
    void assertAlive(final String when) {
        if (watch.shutdowns() > 0) {
            throw new AssertionError(watch.lastStop() + " (without being asked to) while waiting for " + when + "; "
                    + figures());
        }
        if (app.trainer().failure() != null) {
            throw new AssertionError("the trainer died while waiting for " + when, app.trainer().failure());
        }
    }

    /** The pipeline's counters, for failure messages. */
    String figures() {
        return "consumed " + app.counters().consumed() + ", accepted " + app.counters().accepted() + ", trained "
                + app.trainer().eventsTrained() + ", dead-lettered " + app.counters().deadLettered() + " "
                + app.counters().deadLetteredByReason() + ", streams " + app.streamsState();
    }

    /** Every record on the dead-letter topic now (read committed), in partition then offset order. */
    List<ConsumerRecord<byte[], byte[]>> deadLetters() {
        return readAll(topics.deadLetters());
    }

    /** Every record on {@code topic} now (read committed), keys and values as bytes, in partition then offset order. */
    List<ConsumerRecord<byte[], byte[]>> readAll(final String topic) {
        final Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
        final List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            final List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(20)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).sorted(Comparator.comparingInt(
                            TopicPartition::partition)).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            final Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end " + end + " in 60 s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        out.sort(Comparator.comparingInt(ConsumerRecord<byte[], byte[]>::partition)
                .thenComparingLong(ConsumerRecord::offset));
        return out;
    }

    /** Records on {@code topic}: end minus start offsets over its partitions (exact for a non-transactional input). */
    long recordsOn(final String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            final List<TopicPartition> parts = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = admin.listOffsets(
                    parts.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                    .all().get();
            final Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> start = admin.listOffsets(
                    parts.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.earliest())))
                    .all().get();
            return parts.stream().mapToLong(p -> end.get(p).offset() - start.get(p).offset()).sum();
        }
    }

    /** The dead-letter record whose source is {@code partition}/{@code offset} of the events topic, or null. */
    static ConsumerRecord<byte[], byte[]> fromSource(final List<ConsumerRecord<byte[], byte[]>> deadLetters,
                                                     final int partition, final long offset) {
        for (final ConsumerRecord<byte[], byte[]> r : deadLetters) {
            if (Integer.toString(partition).equals(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_PARTITION))
                    && Long.toString(offset).equals(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.SOURCE_OFFSET))) {
                return r;
            }
        }
        return null;
    }

    @Override
    public void close() {
        watch.close();
        producer.close(Duration.ofSeconds(10));
        serializer.close();
        app.close();
    }
}
