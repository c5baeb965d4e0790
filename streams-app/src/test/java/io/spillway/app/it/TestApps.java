package io.spillway.app.it;

import io.spillway.app.AppConfig;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Shared set-up of the integration tests: a small, fast app configuration and topic readers. */
public final class TestApps {
    private TestApps() {
    }

    /**
     * At most 2 keys per step keeps the number of optimizer steps (>= 8000 / (32 x 2)) high enough for the loss to
     * fall even when a loaded machine makes every batch full; the learning rate is set for that step count.
     */
    public static AppConfig config(final String bootstrap, final String registry, final Path stateDir, final int vocabulary) {
        final LearnerConfig learner = LearnerConfig.builder().vocabularySize(vocabulary).featureDimension(16)
                .hiddenSize(64).optimizer("adam").learningRate(0.01f).backend("cpu").seed(3).build();
        return AppConfig.builder().bootstrapServers(bootstrap).schemaRegistryUrl(registry)
                .applicationId("spillway-it-" + System.nanoTime()).stateDir(stateDir).partitions(2)
                .replicationFactor((short) 1).chunkLength(32).maxChunkWait(Duration.ofMillis(500)).learner(learner)
                .trainer(TrainerSettings.defaults("it-model", "it-instance").withBatchKeys(2).withSnapshotEvery(20))
                .limits(new EventLimits(vocabulary, 16, 64, 1 << 20)).opsPort(0)
                .kafkaOverrides(Map.of("commit.interval.ms", 200)).build();
    }

    /** The same configuration with other key formats. */
    public static AppConfig withFormats(final AppConfig c, final io.spillway.app.Formats formats) {
        return c.toBuilder().formats(formats).opsAuth(io.spillway.app.ops.OpsAuth.none()).build();
    }

    /**
     * All records on {@code topic} now, in partition then offset order, decoded as {@code type} (null: values
     * are not decoded and come back null; headers and keys still do).
     */
    static <T extends SpecificRecord> List<ConsumerRecord<byte[], T>> readAll(final String bootstrap,
            final String registry, final String topic, final Class<T> type) {
        return readAll(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), topic, type);
    }

    /**
     * {@link #readAll(String, String, String, Class)} with these consumer settings (bootstrap, security) and these
     * registry client settings (URL, credentials, trust store).
     */
    static <T extends SpecificRecord> List<ConsumerRecord<byte[], T>> readAll(final Map<String, Object> client,
            final Map<String, Object> registry, final String topic, final Class<T> type) {
        final Properties props = new Properties();
        props.putAll(client);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        final List<ConsumerRecord<byte[], T>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             SpecificAvroDeserializer<T> d = type == null ? null : new SpecificAvroDeserializer<>(type)) {
            if (d != null) {
                d.configure(registry, false);
            }
            final List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(20)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            final Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    final T value = type == null || r.value() == null ? null : d.deserialize(topic, r.value());
                    out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.timestamp(), r.timestampType(),
                            r.serializedKeySize(), r.serializedValueSize(), r.key(), value, r.headers(), r.leaderEpoch()));
                }
            }
        }
        return out;
    }

    /**
     * Waits until every partition of {@code topics} has a leader in the broker's metadata. Producing into a
     * topic the app has only just created can otherwise race the broker taking leadership, which the
     * idempotent producer may report as lost sequence numbers on a loaded machine.
     */
    /** Creates a topic of the given partitions (replication factor 1) before the app would create it its way. */
    public static void createTopic(final String bootstrap, final String topic, final int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, partitions, (short) 1)))
                    .all().get();
        }
    }

    public static void awaitLeaders(final String bootstrap, final Collection<String> topics) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            await("leaders of " + topics, Duration.ofSeconds(30), () -> {
                try {
                    return admin.describeTopics(topics).allTopicNames().get().values().stream()
                            .flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                } catch (final Exception e) {
                    return false;
                }
            });
        }
    }

    /** Produces the generator's next {@code n} events to {@code events}, Avro through the registry, and flushes. */
    public static void produce(final String bootstrap, final String registry, final SequenceGenerator generator,
                               final int n) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            for (int i = 0; i < n; i++) {
                final Event e = generator.next();
                p.send(new ProducerRecord<>("events", e.getEntityId(), s.serialize("events", e)));
            }
        }
    }

    public static void await(final String what, final Duration timeout, final BooleanSupplier condition) throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
