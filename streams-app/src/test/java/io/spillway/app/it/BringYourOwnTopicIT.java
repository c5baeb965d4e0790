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
