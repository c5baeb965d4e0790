package io.spillway.app.it.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests of issue 18's single records that stopped training for good (items 1, 2 and 4), each against
 * the real app on a real KRaft broker with the project's registry over HTTP: the hostile record is dead-lettered
 * with a reason, the streams client stays RUNNING, and valid records before and after it all train.
 */
@Tag("hostile-input")
class HostileRecordsIT {
    private static final int KEYS = 16;
    private static final int BEFORE = 320;
    private static final int AFTER = 320;
    /** Just under the broker's default max.message.bytes (1,048,588) once the record's own overhead is added. */
    private static final int NEAR_LIMIT_VALUE_BYTES = 1_048_300;

    @TempDir
    static Path dir;
    private static EmbeddedKafka kafka;
    private static SchemaRegistryServer registry;

    @BeforeAll
    static void startBrokerAndRegistry() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
    }

    @AfterAll
    static void stopBrokerAndRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static AppUnderAttack start(final String name) throws Exception {
        return AppUnderAttack.start(kafka.bootstrapServers(), registry.url().toString(), dir.resolve(name), name, KEYS);
    }

    /**
     * Item 1: the dead letter of a value near the broker's limit, plus its headers, used to exceed the dead-letter
     * topic's limit; the app creates that topic with room for it.
     */
    @Test
    void aValueJustUnderTheBrokersLimitIsDeadLetteredAndTheAppKeepsTraining() throws Exception {
        try (AppUnderAttack a = start("oversized")) {
            final ConsumerRecord<byte[], byte[]> letter = deadLetterOfANearLimitValue(a);
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED)).isNull();
        }
    }

    /**
     * Item 1 where the dead-letter topic already exists with the broker's default record limit (an operator made it):
     * the dead letter goes out truncated, saying so.
     */
    @Test
    void aValueJustUnderTheLimitOfAnExistingDeadLetterTopicIsDeadLetteredTruncated() throws Exception {
        final String name = "oversized-existing-dlq";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(AppUnderAttack.topicsFor(name).deadLetters(),
                    Optional.of(AppUnderAttack.PARTITIONS), Optional.empty()))).all().get();
        }
        try (AppUnderAttack a = start(name)) {
            final ConsumerRecord<byte[], byte[]> letter = deadLetterOfANearLimitValue(a);
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
        }
    }

    /**
     * Valid events, one value of {@link #NEAR_LIMIT_VALUE_BYTES}, valid events: all valid ones train, the big one is
     * dead-lettered whole or truncated with the means to match it to its source, nothing stops.
     */
    private static ConsumerRecord<byte[], byte[]> deadLetterOfANearLimitValue(final AppUnderAttack a) throws Exception {
        a.produceValid(BEFORE);
        a.await("the first events trained", Duration.ofSeconds(90), () -> a.app().trainer().eventsTrained() == BEFORE);

        final byte[] key = "entity-3".getBytes(StandardCharsets.UTF_8);
        final byte[] value = nearLimitValue(a);
        assertThat(value).hasSize(NEAR_LIMIT_VALUE_BYTES);
        final RecordMetadata hostile = a.producer().send(new ProducerRecord<>(a.topics().events(), key, value)).get();

        a.produceValid(AFTER);
        awaitAllHandled(a, BEFORE + AFTER + 1);

        assertThat(a.app().trainer().eventsTrained()).as("valid events trained").isEqualTo(BEFORE + AFTER);
        final List<ConsumerRecord<byte[], byte[]>> dead = a.deadLetters();
        assertThat(dead).as("records on the dead-letter topic").hasSize(1);
        final ConsumerRecord<byte[], byte[]> letter = AppUnderAttack.fromSource(dead, hostile.partition(),
                hostile.offset());
        assertThat(letter).as("the dead letter of the near-limit record").isNotNull();
        assertThat(letter.key()).isEqualTo(key);
        assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.REASON)).isNotBlank();
        if (letter.value() == null || letter.value().length != value.length) {
            // A truncated copy says so, and how to match it with the record it came from.
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.ORIGINAL_VALUE_BYTES))
                    .isEqualTo(Integer.toString(value.length));
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.ORIGINAL_VALUE_SHA256))
                    .isEqualToIgnoringCase(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value)));
            assertThat(value).startsWith(letter.value() == null ? new byte[0] : letter.value());
            assertThat(a.app().counters().deadLettersTruncated()).isEqualTo(1);
        } else {
            assertThat(letter.value()).isEqualTo(value);
            assertThat(a.app().counters().deadLettersTruncated()).isZero();
        }
        assertCountersMatchTheTopic(a, dead);
        assertStillRunning(a);
        return letter;
    }

    /** Item 2: a record whose Kafka timestamp is -5 failed Streams' default timestamp extractor. */
    @Test
    void aNegativeRecordTimestampIsDeadLetteredWithoutStoppingTheClient() throws Exception {
        try (AppUnderAttack a = start("negative-time")) {
            a.produceValid(BEFORE);
            a.await("the first events trained", Duration.ofSeconds(90), () -> a.app().trainer().eventsTrained() == BEFORE);

            // A fresh key and a valid body: the record time is the only thing wrong with it.
            final String entity = "entity-negative-time";
            final byte[] key = entity.getBytes(StandardCharsets.UTF_8);
            final byte[] value = a.serialize(event(entity, 1_700_000_000_000L));
            final int partition = a.partitionOf(key);
            final long offset = RawProducer.produce(a.bootstrap(), a.topics().events(), partition, key, value,
                    new Header[0], -5L);
            assertThat(a.readAll(a.topics().events())).filteredOn(r -> r.partition() == partition && r.offset() == offset)
                    .singleElement().satisfies(r -> assertThat(r.timestamp()).as("stored record time").isEqualTo(-5L));

            a.produceValid(AFTER);
            awaitAllHandled(a, BEFORE + AFTER + 1);

            assertThat(a.app().trainer().eventsTrained()).as("valid events trained").isEqualTo(BEFORE + AFTER);
            final List<ConsumerRecord<byte[], byte[]>> dead = a.deadLetters();
            assertThat(dead).as("records on the dead-letter topic").hasSize(1);
            final ConsumerRecord<byte[], byte[]> letter = AppUnderAttack.fromSource(dead, partition, offset);
            assertThat(letter).as("the dead letter of the record timed -5").isNotNull();
            assertThat(letter.value()).isEqualTo(value);
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.REASON))
                    .isEqualTo("invalid-record-timestamp");
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.ORIGINAL_TIMESTAMP)).isEqualTo("-5");
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.MESSAGE)).isNotBlank();
            assertCountersMatchTheTopic(a, dead);
            assertStillRunning(a);
        }
    }

    /** Item 4: a trained event time of 2^63-1 made every later event of its key out of order, forever. */
    @Test
    void aFarFutureEventTimeIsDeadLetteredAndTheKeysLaterEventsTrain() throws Exception {
        try (AppUnderAttack a = start("far-future")) {
            a.produceValid(BEFORE);
            a.await("the first events trained", Duration.ofSeconds(90), () -> a.app().trainer().eventsTrained() == BEFORE);

            final String entity = "entity-7";
            final byte[] key = entity.getBytes(StandardCharsets.UTF_8);
            final RecordMetadata hostile = a.producer().send(new ProducerRecord<>(a.topics().events(), key,
                    a.serialize(event(entity, Long.MAX_VALUE)))).get();

            // AFTER / KEYS of these are the same key's, with ordinary event times
            final List<RecordMetadata> after = a.produceValid(AFTER);
            assertThat(after.stream().filter(m -> m.partition() == hostile.partition()).count()).isPositive();
            awaitAllHandled(a, BEFORE + AFTER + 1);

            final List<ConsumerRecord<byte[], byte[]>> dead = a.deadLetters();
            assertThat(dead).extracting(r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                    .as("the later events of %s must not be out of order", entity)
                    .doesNotContain("timestamp-out-of-order");
            assertThat(a.app().trainer().eventsTrained()).as("valid events trained").isEqualTo(BEFORE + AFTER);
            assertThat(dead).as("records on the dead-letter topic").hasSize(1);
            final ConsumerRecord<byte[], byte[]> letter = AppUnderAttack.fromSource(dead, hostile.partition(),
                    hostile.offset());
            assertThat(letter).as("the dead letter of the far-future event").isNotNull();
            assertThat(DeadLetterHeaders.get(letter.headers(), DeadLetterHeaders.REASON)).isEqualTo("timestamp-in-future");
            assertCountersMatchTheTopic(a, dead);
            assertStillRunning(a);
        }
    }

    /**
     * Found by this suite, fixed by --max-key-bytes: an entity id was bounded only by the value limit (1 MiB), and a producer that
     * compresses its batches gets a record far larger than the broker's limit onto the input. Three valid events of
     * a 700,000-character entity id train, and the trainer dies publishing their prediction (key and entity id, 1.4
     * MB, over the sink producer's max.request.size); a restart retrained the same chunk and died again.
     */
    @Test
    void anEntityIdTooLargeToPublishIsDeadLetteredAndTheTrainerLives() throws Exception {
        try (AppUnderAttack a = start("huge-entity-id")) {
            assertHugeEntityIdIsDeadLettered(a, 700_000);
        }
    }

    /**
     * Found by this suite, fixed by --max-key-bytes: a valid event whose entity id is 1,048,500 characters (its value just
     * under the 1 MiB event limit, sent compressed) was buffered, and its open-chunk store's changelog record (the key
     * and the event) exceeded the broker's limit: the stream thread failed and the client shut down, on every restart.
     */
    @Test
    void anEntityIdNearTheValueLimitIsDeadLetteredAndTheClientLives() throws Exception {
        try (AppUnderAttack a = start("near-limit-entity-id")) {
            assertHugeEntityIdIsDeadLettered(a, 1_048_500);
        }
    }

    /** Three valid events of one key of {@code length} characters, sent lz4-compressed, between valid events. */
    private static void assertHugeEntityIdIsDeadLettered(final AppUnderAttack a, final int length) throws Exception {
        a.produceValid(BEFORE);
        a.await("the first events trained", Duration.ofSeconds(90), () -> a.app().trainer().eventsTrained() == BEFORE);
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, a.bootstrap());
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 << 20);
        final String entity = "p".repeat(length);
        final int hostile = 3;
        try (KafkaProducer<byte[], byte[]> compressing = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < hostile; i++) {
                compressing.send(new ProducerRecord<>(a.topics().events(), entity.getBytes(StandardCharsets.UTF_8),
                        a.serialize(event(entity, 1_700_000_000_000L + i)))).get();
            }
        }
        a.produceValid(AFTER);
        awaitAllHandled(a, BEFORE + AFTER + hostile);

        assertThat(a.app().trainer().eventsTrained()).as("valid events trained").isEqualTo(BEFORE + AFTER);
        final List<ConsumerRecord<byte[], byte[]>> dead = a.deadLetters();
        assertThat(dead).as("records on the dead-letter topic").hasSize(hostile);
        assertCountersMatchTheTopic(a, dead);
        assertStillRunning(a);
    }

    /** A framed Event of exactly {@link #NEAR_LIMIT_VALUE_BYTES}: its entity id is padded to fill the value. */
    private static byte[] nearLimitValue(final AppUnderAttack a) {
        int padding = NEAR_LIMIT_VALUE_BYTES - 64;
        byte[] value = a.serialize(event("x".repeat(padding), 1_700_000_000_000L));
        padding += NEAR_LIMIT_VALUE_BYTES - value.length; // the length prefix's size does not change near 1 MB
        value = a.serialize(event("x".repeat(padding), 1_700_000_000_000L));
        return value;
    }

    private static Event event(final String entity, final long timestampMs) {
        return Event.newBuilder().setEntityId(entity).setTimestampMs(timestampMs).setEventType(1)
                .setFeatures(SparseVector.newBuilder().setIndices(List.of(2)).setValues(List.of(0.5f)).build())
                .setLabel(null).build();
    }

    /** Waits until each of {@code records} is trained or dead-lettered, and the app has consumed no more than those. */
    private static void awaitAllHandled(final AppUnderAttack a, final long records) throws InterruptedException {
        a.await(records + " records trained or dead-lettered", Duration.ofSeconds(120),
                () -> a.app().trainer().eventsTrained() + a.app().counters().deadLettered() >= records);
        assertThat(a.app().counters().consumed()).as("records consumed").isEqualTo(records);
    }

    /** The DLQ counter counts what is on the dead-letter topic: in all and per reason. */
    private static void assertCountersMatchTheTopic(final AppUnderAttack a, final List<ConsumerRecord<byte[], byte[]>> dead) {
        assertThat(dead).allSatisfy(r -> assertThat(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON))
                .as("reason header").isNotBlank());
        final Map<String, Long> onTopic = new TreeMap<>(dead.stream().collect(Collectors.groupingBy(
                r -> DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON), Collectors.counting())));
        assertThat(a.app().counters().deadLettered()).as("DLQ counter").isEqualTo(dead.size());
        assertThat(a.app().counters().deadLetteredByReason()).as("DLQ counter per reason").isEqualTo(onTopic);
        assertThat(a.app().counters().consumed()).as("consumed = trained + dead-lettered")
                .isEqualTo(a.app().trainer().eventsTrained() + a.app().counters().deadLettered());
    }

    private static void assertStillRunning(final AppUnderAttack a) {
        a.assertAlive("the end of the test");
        assertThat(a.watch().shutdowns()).as("client shutdowns").isZero();
        assertThat(a.app().streamsState()).isEqualTo(KafkaStreams.State.RUNNING);
    }
}
