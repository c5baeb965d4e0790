package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.Formats;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.serving.ServingApp;
import io.spillway.app.topology.DeadLetterHeaders;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.Topics;
import io.spillway.app.topology.ValueFormat;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.ServedPrediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17: training on a topic the user already has, written by Confluent's own Python client (Debian's
 * python3-confluent-kafka) in a schema of the test's own, a clickstream (string user id, string page,
 * {@code timestamp-millis} time, double dwell time), read through a mapping file as a user would write one.
 */
class BringYourOwnTopicIT {
    private static final int USERS = 6;

    @TempDir
    Path dir;

    @BeforeAll
    static void requirePeer() throws Exception {
        ConfluentPeer.assumeAvailable();
    }

    private Formats formats(final String mapping) throws Exception {
        final Path file = dir.resolve("clicks.mapping");
        Files.writeString(file, mapping);
        return new Formats(KeyFormat.AUTO, null, KeyFormat.TEXT).withValues(ValueFormat.AUTO, FieldMapping.load(file));
    }

    private static final String MAPPING = """
            # the record key (Avro string or text) is the user: the entity id
            entity = $key
            time = at
            type = page
            type.vocabulary = hash
            features = dwellSeconds
            """;

    @Test
    void avroProducersClickstreamTrainsAcrossASchemaVersionAndUnmappableRecordsAreDeadLettered() throws Exception {
        final int v1 = 900;
        final int total = 1_800;
        final int bad = 60;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final AppConfig c = TestApps.withFormats(TestApps.config(kafka.bootstrapServers(),
                    registry.url().toString(), dir.resolve("state"), 16), formats(MAPPING));
            try (SpillwayApp app = SpillwayApp.start(c)) {
                TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
                assertThat(python("click-produce", kafka.bootstrapServers(), registry.url().toString(), "events",
                        Integer.toString(total), Integer.toString(USERS), Integer.toString(v1), Integer.toString(bad)))
                        .contains("{\"produced\": " + (total + bad) + "}");
                TestApps.await("the clickstream trained", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= total + bad);
                assertThat(app.trainer().eventsTrained()).as("every click of both schema versions").isEqualTo(total);
                // dead letters reach read_committed readers when the task's transaction commits
                TestApps.await("the dead letters committed", Duration.ofSeconds(30), () -> deadLetterReasons(
                        kafka.bootstrapServers(), registry.url().toString()).size() >= bad);
                assertThat(deadLetterReasons(kafka.bootstrapServers(), registry.url().toString()))
                        .hasSize(bad).containsOnly("mapping-failed: field page missing");

                // serve scores the same topic as it is: Avro keys and the user's records read through the same mapping
                try (ServingApp serve = ServingApp.start(new ServingApp.Settings(PredictorSettings.of(
                        Map.of("bootstrap.servers", c.bootstrapServers()), c.schemaRegistryUrl(), Map.of(), c.topics(),
                        c.trainer().modelId(), c.learner(), c.trainer().scaleOut()), c.topics().events(), "scores",
                        "byo-serve", c.limits(), 1, (short) 1, null, HttpLimits.DEFAULT, c.formats()))) {
                    TestApps.await("the clickstream scored", Duration.ofSeconds(90), () -> serve.scoresPublished()
                            + serve.rejected().values().stream().mapToLong(Long::longValue).sum() >= total + bad);
                    assertThat(serve.scoresPublished()).as("every click of both schema versions").isEqualTo(total);
                    assertThat(serve.rejected()).isEqualTo(Map.of("mapping-failed", (long) bad));
                    final Set<String> entities = new TreeSet<>();
                    for (final ConsumerRecord<byte[], ServedPrediction> r : TestApps.readAll(c.bootstrapServers(),
                            c.schemaRegistryUrl(), "scores", ServedPrediction.class)) {
                        entities.add(r.value().getEntityId().toString());
                    }
                    assertThat(entities).as("the Avro keys decoded to the users").containsExactlyInAnyOrder(
                            IntStream.range(0, USERS).mapToObj(u -> "user-" + u).toArray(String[]::new));
                }
            }
        }
    }

    @Test
    void jsonClicksWithTextKeysTrainThroughADictionaryAndATimeThatIsNotATimeIsDeadLettered() throws Exception {
        final int total = 1_200;
        final int bad = 30;
        // the dictionary on an input of two partitions (TestApps creates it so): the sequence topic's path
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             SpillwayApp app = SpillwayApp.start(TestApps.withFormats(TestApps.config(kafka.bootstrapServers(),
                     registry.url().toString(), dir.resolve("state"), 16),
                     formats(MAPPING.replace("type.vocabulary = hash", "type.vocabulary = dictionary"))))) {
            TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
            assertThat(python("json-produce", kafka.bootstrapServers(), "events", Integer.toString(total),
                    Integer.toString(USERS), Integer.toString(bad))).contains("{\"produced\": " + (total + bad) + "}");
            TestApps.await("the JSON clickstream trained", Duration.ofSeconds(120),
                    () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= total + bad);
            assertThat(app.trainer().eventsTrained()).isEqualTo(total);
            // dead letters reach read_committed readers when the task's transaction commits
            TestApps.await("the dead letters committed", Duration.ofSeconds(30), () -> deadLetterReasons(
                    kafka.bootstrapServers(), registry.url().toString()).size() >= bad);
            assertThat(deadLetterReasons(kafka.bootstrapServers(), registry.url().toString()))
                    .hasSize(bad).containsOnly("mapping-failed: field at is not an ISO-8601 time: 'not a time'");
            final Set<String> targets = new TreeSet<>();
            for (final ConsumerRecord<byte[], Prediction> r : TestApps.readAll(kafka.bootstrapServers(),
                    registry.url().toString(), Topics.defaults().predictions(), Prediction.class)) {
                if (r.value().getActualCategory() != null) {
                    targets.add(r.value().getActualCategory().toString());
                }
            }
            assertThat(targets).as("the predictions carry the pages of the JSON clicks")
                    .containsExactlyInAnyOrder("/home", "/search", "/product", "/cart", "/checkout", "/help");
        }
    }

    @Test
    void clicksInConfluentsHeaderFramingTrainKeysAndValuesNamingTheirSchemasByIdAndGuid() throws Exception {
        final int clicks = 600;
        final org.apache.avro.Schema click = new org.apache.avro.Schema.Parser().parse("{\"type\":\"record\","
                + "\"name\":\"HeaderClick\",\"fields\":[{\"name\":\"page\",\"type\":\"string\"},"
                + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
                + "{\"name\":\"dwellSeconds\",\"type\":\"double\"}]}");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             io.spillway.schemas.registry.SchemaRegistryClient client = io.spillway.schemas.registry
                     .SchemaRegistryClients.create(registry.url().toString(), Map.of());
             SpillwayApp app = SpillwayApp.start(TestApps.withFormats(TestApps.config(kafka.bootstrapServers(),
                     registry.url().toString(), dir.resolve("state"), 16),
                     formats(MAPPING.replace("type.vocabulary = hash", "type.vocabulary = dictionary"))))) {
            TestApps.awaitLeaders(kafka.bootstrapServers(), Topics.defaults().all());
            final int valueId = client.register("events-value", click);
            final java.util.UUID valueGuid = io.spillway.schemas.registry.internals.SchemaGuids.of(click);
            assertThat(client.getByGuid(valueGuid)).as("the registry serves the GUID").isEqualTo(click);
            final int keyId = client.register("events-key", org.apache.avro.Schema.create(
                    org.apache.avro.Schema.Type.STRING));
            final String[] pages = {"/home", "/search", "/cart"};
            try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
                         new org.apache.kafka.clients.producer.KafkaProducer<>(Map.of("bootstrap.servers",
                                 kafka.bootstrapServers()), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                                 new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                for (int i = 0; i < clicks; i++) {
                    final org.apache.avro.generic.GenericRecord value = new org.apache.avro.generic.GenericData.Record(click);
                    value.put("page", pages[i % 3]);
                    value.put("at", 1_767_225_600_000L + i);
                    value.put("dwellSeconds", 1.0);
                    final org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> record =
                            new org.apache.kafka.clients.producer.ProducerRecord<>("events", null,
                                    avroBody(org.apache.avro.Schema.create(org.apache.avro.Schema.Type.STRING),
                                            "user-" + i % USERS), avroBody(click, value));
                    // half the values name their schema by GUID, half by id; every key by id
                    record.headers().add(io.spillway.schemas.serde.internals.HeaderSchemaId.VALUE_HEADER, i % 2 == 0
                            ? io.spillway.schemas.serde.internals.HeaderSchemaId.guidHeader(valueGuid)
                            : io.spillway.schemas.serde.internals.HeaderSchemaId.idHeader(valueId));
                    record.headers().add(io.spillway.schemas.serde.internals.HeaderSchemaId.KEY_HEADER,
                            io.spillway.schemas.serde.internals.HeaderSchemaId.idHeader(keyId));
                    producer.send(record);
                }
            }
            TestApps.await("the header-framed clicks trained", Duration.ofSeconds(120),
                    () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= clicks);
            assertThat(app.counters().deadLettered()).isZero();
            assertThat(app.trainer().eventsTrained()).isEqualTo(clicks);
            final Set<String> targets = new TreeSet<>();
            for (final ConsumerRecord<byte[], Prediction> r : TestApps.readAll(kafka.bootstrapServers(),
                    registry.url().toString(), Topics.defaults().predictions(), Prediction.class)) {
                if (r.value().getActualCategory() != null) {
                    targets.add(r.value().getActualCategory().toString());
                }
                assertThat(r.value().getEntityId().toString()).as("keys read as Avro strings").startsWith("user-");
            }
            assertThat(targets).containsExactlyInAnyOrder(pages);
        }
    }

    private static byte[] avroBody(final org.apache.avro.Schema schema, final Object datum) throws Exception {
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<Object>(schema).write(datum, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static List<String> deadLetterReasons(final String bootstrap, final String registry) {
        final List<String> out = new ArrayList<>();
        for (final ConsumerRecord<byte[], ?> r : TestApps.readAll(bootstrap, registry, Topics.defaults().deadLetters(),
                null)) {
            out.add(DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON) + ": "
                    + DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.MESSAGE));
        }
        return out;
    }

    private List<String> python(final String... args) throws Exception {
        return ConfluentPeer.run(dir, args);
    }
}
