package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.AppConfig;
import io.spillway.app.Formats;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.serving.ServingApp;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.Topics;
import io.spillway.app.topology.ValueFormat;
import io.spillway.app.vocabulary.VocabularyReader;
import io.spillway.app.vocabulary.VocabularyTopic;
import io.spillway.schemas.avro.EventTypeProbability;
import io.spillway.schemas.avro.ServedPrediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 item 3, the serving side: a replica that serves a model trained with {@code type.vocabulary =
 * dictionary} reads the trainer's published dictionary. It scores the user's own clickstream (Confluent's Python
 * {@code AvroProducer}, Avro keys) through the same mapping, the pages taking the trainer's ids, and every
 * prediction on the scores topic and over HTTP carries the pages' names; an HTTP request may name its events'
 * pages instead of their ids, and a page the trainer never published is read as the overflow class and counted.
 * Records of the dictionary topic that are not a category with an id of the model are skipped.
 */
class DictionaryServingIT {
    private static final Set<String> PAGES = DictionaryVocabularyIT.PAGES;
    private static final int USERS = DictionaryVocabularyIT.USERS;
    /** Ids 0..5 for the six pages, 6 free, 7 the overflow class. */
    private static final int VOCABULARY = 8;
    private static final String MAPPING = DictionaryVocabularyIT.MAPPING;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @BeforeAll
    static void requirePeer() throws Exception {
        ConfluentPeer.assumeAvailable();
    }

    @Test
    void serveScoresTheUsersPagesWithTheTrainersIdsAndAnswersWithPageNames() throws Exception {
        final int clicks = 1_200;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String bootstrap = kafka.bootstrapServers();
            final String url = registry.url().toString();
            TestApps.createTopic(bootstrap, "events", 1);
            final Path file = Files.writeString(dir.resolve("clicks.mapping"), MAPPING);
            final AppConfig c = TestApps.withFormats(TestApps.config(bootstrap, url, dir.resolve("state"), VOCABULARY),
                    new Formats(KeyFormat.AUTO, null, KeyFormat.TEXT).withValues(ValueFormat.AUTO,
                            FieldMapping.load(file)));
            final String vocabularyTopic = VocabularyTopic.name(c.applicationId());
            try (SpillwayApp app = SpillwayApp.start(c)) {
                TestApps.awaitLeaders(bootstrap, Topics.defaults().all());
                assertThat(ConfluentPeer.run(dir, "click-produce", bootstrap, url, "events", Integer.toString(clicks),
                        Integer.toString(USERS), Integer.toString(clicks), "0"))
                        .contains("{\"produced\": " + clicks + "}");
                TestApps.await("the clicks trained", Duration.ofSeconds(120),
                        () -> app.trainer().eventsTrained() + app.counters().deadLettered() >= clicks);
                assertThat(app.trainer().eventsTrained()).isEqualTo(clicks);
            }
            final Map<Integer, String> dictionary;
            try (VocabularyReader reader = new VocabularyReader(Map.of("bootstrap.servers", bootstrap),
                    vocabularyTopic, VOCABULARY)) {
                dictionary = reader.all();
            }
            assertThat(Set.copyOf(dictionary.values())).isEqualTo(PAGES);
            final Map<String, Integer> ids = new HashMap<>();
            dictionary.forEach((id, page) -> ids.put(page, id));
            // records serve must not take from the topic: a value that is not a 4-byte id, the overflow id, an id
            // beyond the model, a negative one (the trainer is stopped: its store never reads these back)
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(vocabularyTopic, VocabularyTopic.key("/short"), new byte[3]));
                producer.send(new ProducerRecord<>(vocabularyTopic, VocabularyTopic.key("/overflow"),
                        VocabularyTopic.value(VOCABULARY - 1)));
                producer.send(new ProducerRecord<>(vocabularyTopic, VocabularyTopic.key("/beyond"),
                        VocabularyTopic.value(99)));
                producer.send(new ProducerRecord<>(vocabularyTopic, VocabularyTopic.key("/negative"),
                        VocabularyTopic.value(-5)));
                producer.send(new ProducerRecord<>(vocabularyTopic, null, VocabularyTopic.value(6)));
                producer.flush();
            }

            try (ServingApp serve = ServingApp.start(new ServingApp.Settings(PredictorSettings.of(
                    Map.of("bootstrap.servers", bootstrap), url, Map.of(), c.topics(), c.trainer().modelId(),
                    c.learner(), c.trainer().scaleOut()), c.topics().events(), "scores", "dictionary-serve",
                    c.limits(), 1, (short) 1, OpsSettings.of("127.0.0.1", 0, OpsAuth.none()), HttpLimits.DEFAULT,
                    c.formats(), vocabularyTopic))) {
                TestApps.await("the clickstream scored", Duration.ofSeconds(90), () -> serve.scoresPublished()
                        + serve.rejected().values().stream().mapToLong(Long::longValue).sum() >= clicks);
                assertThat(serve.rejected()).isEmpty();
                assertThat(serve.scoresPublished()).isEqualTo(clicks);
                int named = 0;
                for (final ConsumerRecord<byte[], ServedPrediction> r : TestApps.readAll(bootstrap, url, "scores",
                        ServedPrediction.class)) {
                    final ServedPrediction p = r.value();
                    assertThat(str(p.getPredictedCategory())).as("the predicted page's name")
                            .isEqualTo(dictionary.get(p.getPredictedEventType()));
                    for (final EventTypeProbability t : p.getTop()) {
                        assertThat(str(t.getCategory())).isEqualTo(dictionary.get(t.getEventType()));
                    }
                    named += p.getPredictedCategory() == null ? 0 : 1;
                }
                assertThat(named).as("a trained model predicts pages, not the free or overflow ids")
                        .isGreaterThan(clicks * 9 / 10);

                final URI predict = serve.uri().orElseThrow().resolve("/v1/predict");
                final JsonNode byPage = post(predict, "{\"key\": \"new-user\", \"events\": [{\"category\": \"/cart\"},"
                        + " {\"category\": \"/checkout\"}], \"k\": 3}");
                final JsonNode byId = post(predict, "{\"key\": \"new-user\", \"events\": [{\"eventType\": "
                        + ids.get("/cart") + "}, {\"eventType\": " + ids.get("/checkout") + "}], \"k\": 3}");
                assertThat(byPage.get("top")).as("pages read as the trainer's ids").isEqualTo(byId.get("top"));
                assertThat(byPage.get("predictedCategory").asText())
                        .isEqualTo(dictionary.get(byPage.get("predictedEventType").asInt()));
                for (final JsonNode t : byPage.get("top")) {
                    final String page = dictionary.get(t.get("eventType").asInt());
                    assertThat(t.get("category").isNull() ? null : t.get("category").asText()).isEqualTo(page);
                }
                final JsonNode unpublished = post(predict,
                        "{\"key\": \"new-user\", \"events\": [{\"category\": \"/never-trained\"}]}");
                final JsonNode overflow = post(predict,
                        "{\"key\": \"new-user\", \"events\": [{\"eventType\": " + (VOCABULARY - 1) + "}]}");
                assertThat(unpublished.get("top")).as("an unpublished page is the overflow class")
                        .isEqualTo(overflow.get("top"));
                assertThat(serve.scrape()).contains("spillway_serving_unknown_categories_total 1.0");
                final JsonNode model = JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        serve.uri().orElseThrow().resolve("/v1/model")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                assertThat(model.get("dictionary").get("topic").asText()).isEqualTo(vocabularyTopic);
                assertThat(model.get("dictionary").get("categories").asInt()).as("the six pages").isEqualTo(6);
                for (final String hostile : new String[] {"/short", "/overflow", "/beyond", "/negative"}) {
                    assertThat(post(predict, "{\"key\": \"new-user\", \"events\": [{\"category\": \""
                            + hostile + "\"}]}").get("top")).as("%s is not in the dictionary", hostile)
                            .isEqualTo(overflow.get("top"));
                }
                System.out.printf("DictionaryServingIT: dictionary %s; %d of %d scores named; after /cart, "
                        + "/checkout: %s%n", dictionary, named, clicks, byPage.get("top"));
            }
        }
    }

    private static JsonNode post(final URI uri, final String body) throws Exception {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static String str(final CharSequence s) {
        return s == null ? null : s.toString();
    }
}
