package io.spillway.app.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions swapped while HTTP requests run: every response names one complete version and carries exactly what that
 * version's weights predict; every version swapped in holds bitwise the weights of all deltas up to it. A record on
 * the deltas topic that is no delta is refused with a reason and the last complete version keeps serving.
 */
class ServingSwapIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "swap-model";
    // the network alone: what each version's weights predict (a mixture's counts would move between versions)
    private static final LearnerConfig CONFIG = LearnerConfig.builder().vocabularySize(6).featureDimension(4)
            .hiddenSize(16).backend("cpu").seed(7).mixture("none").build();
    private static final List<SparseEvent> EVENTS = List.of(SparseEvent.ofType(1), SparseEvent.ofType(3),
            new SparseEvent(2, new int[] {0, 2}, new float[] {0.5f, -1.25f}, SparseEvent.NO_LABEL));
    private static final String BODY = "{\"key\":\"probe\",\"k\":6,\"events\":[{\"eventType\":1},{\"eventType\":3},"
            + "{\"eventType\":2,\"features\":{\"indices\":[0,2],\"values\":[0.5,-1.25]}}]}";

    @TempDir
    Path dir;

    private record Answer(long version, float[] probabilities) {
    }

    @Test
    void everyResponseNamesOneVersionAndMatchesItsWeights() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final Topics topics = Topics.defaults();
            final Map<String, Object> client = Map.of("bootstrap.servers", kafka.bootstrapServers());
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic(topics.deltas(), 1, (short) 1),
                        new NewTopic(topics.snapshots(), 1, (short) 1), new NewTopic("probe-events", 1, (short) 1)))
                        .all().get();
            }
            try (SyntheticDeltas deltas = new SyntheticDeltas(kafka.bootstrapServers(), url, topics, MODEL, CONFIG,
                    40, 3);
                 ServingApp serving = ServingApp.start(new ServingApp.Settings(PredictorSettings.of(client, url,
                         Map.of(), topics, MODEL, CONFIG, ScaleOut.REPLICATE)
                         .withFollowing(Duration.ofMillis(50), Duration.ofSeconds(30)), "probe-events", "scores", "g",
                         new EventLimits(6, 4, 16, 1 << 20), 1, (short) 1,
                         OpsSettings.of("127.0.0.1", 0, OpsAuth.none()), HttpLimits.DEFAULT))) {
                final Predictor predictor = serving.predictor();
                final Map<Long, float[]> weights = new ConcurrentHashMap<>();
                final Map<Long, float[]> expected = new ConcurrentHashMap<>();
                weights.put(0L, deltas.weights());
                expected.put(0L, probabilities(deltas, deltas.weights()));
                final List<ModelVersion> swapped = new CopyOnWriteArrayList<>();
                predictor.addSwapListener(swapped::add);
                assertThat(predictor.awaitModel(Duration.ofSeconds(60))).isTrue();
                assertThat(predictor.model().orElseThrow().version()).isZero();

                final HttpClient http = HttpClient.newHttpClient();
                final HttpRequest request = HttpRequest.newBuilder(serving.uri().orElseThrow().resolve("/v1/predict"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY))
                        .build();
                final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
                final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
                final List<Thread> clients = new ArrayList<>();
                final boolean[] stop = {false};
                for (int c = 0; c < 4; c++) {
                    final Thread t = new Thread(() -> {
                        while (!stop[0]) {
                            try {
                                final HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                                if (r.statusCode() != 200) {
                                    failures.add(r.statusCode() + " " + r.body());
                                    continue;
                                }
                                answers.add(answer(JSON.readTree(r.body())));
                            } catch (final Exception e) {
                                failures.add(e.toString());
                            }
                        }
                    });
                    t.start();
                    clients.add(t);
                }
                final int versions = 25;
                for (int v = 1; v <= versions; v++) {
                    final float[] w = deltas.publishVersion(0.3, 0.05f);
                    weights.put((long) v, w);
                    expected.put((long) v, probabilities(deltas, w));
                    Thread.sleep(40);
                }
                assertThat(ServingApp.await(Duration.ofSeconds(30),
                        () -> predictor.model().orElseThrow().version() == versions)).isTrue();
                Thread.sleep(300);
                stop[0] = true;
                for (final Thread t : clients) {
                    t.join(10_000);
                }
                assertThat(failures).isEmpty();
                assertThat(answers).hasSizeGreaterThan(50);
                final java.util.Set<Long> seen = new java.util.TreeSet<>();
                for (final Answer a : answers) {
                    assertThat(expected).as("version %d named by a response", a.version()).containsKey(a.version());
                    assertThat(a.probabilities()).as("what version %d predicts", a.version())
                            .isEqualTo(expected.get(a.version()));
                    seen.add(a.version());
                }
                assertThat(seen).as("versions seen by the clients").hasSizeGreaterThanOrEqualTo(3);
                // versions are swapped in whole and in order, each with exactly its weights
                long previous = 0;
                for (final ModelVersion v : swapped) {
                    if (v.version() == 0) { // the initial weights, when the listener came before them
                        assertThat(v.source()).isEqualTo(ModelVersion.Source.INITIAL);
                        assertThat(v.weights()).isEqualTo(weights.get(0L));
                        continue;
                    }
                    assertThat(v.version()).isGreaterThan(previous);
                    assertThat(v.weights()).as("weights of version %d", v.version()).isEqualTo(weights.get(v.version()));
                    assertThat(v.source()).isEqualTo(ModelVersion.Source.DELTAS);
                    assertThat(v.publishedAtMs()).isPositive();
                    previous = v.version();
                }
                assertThat(swapped.getLast().version()).isEqualTo(versions);
                assertThat(predictor.versionSwaps()).isBetween((long) swapped.size(), swapped.size() + 1L);
                assertThat(serving.scrape()).contains("spillway_serving_model_version " + versions + ".0");

                // the scorer: a valid event is scored, an invalid one and one that is no event are skipped and counted
                final java.util.Properties props = new java.util.Properties();
                props.put("bootstrap.servers", kafka.bootstrapServers());
                try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> p =
                             new org.apache.kafka.clients.producer.KafkaProducer<>(props,
                                     new org.apache.kafka.common.serialization.StringSerializer(),
                                     new org.apache.kafka.common.serialization.ByteArraySerializer());
                     io.spillway.schemas.serde.SpecificAvroSerializer<io.spillway.schemas.avro.Event> ser =
                             new io.spillway.schemas.serde.SpecificAvroSerializer<>(io.spillway.schemas.avro.Event.class)) {
                    ser.configure(Map.of(io.spillway.schemas.serde.SerdeConfig.SCHEMA_REGISTRY_URL, url), false);
                    for (final int type : new int[] {2, 6}) {
                        final io.spillway.schemas.avro.Event e = io.spillway.schemas.avro.Event.newBuilder()
                                .setEntityId("u").setTimestampMs(1).setEventType(type)
                                .setFeatures(io.spillway.schemas.avro.SparseVector.newBuilder().setIndices(List.of())
                                        .setValues(List.of()).build()).build();
                        p.send(new org.apache.kafka.clients.producer.ProducerRecord<>("probe-events", "u",
                                ser.serialize("probe-events", e)));
                    }
                    p.send(new org.apache.kafka.clients.producer.ProducerRecord<>("probe-events", "u",
                            "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                }
                assertThat(ServingApp.await(Duration.ofSeconds(60),
                        () -> serving.rejected().size() == 2 && serving.scoresPublished() == 1)).isTrue();
                assertThat(serving.scoresPublished()).isEqualTo(1);
                // the reasons the trainer's topology dead-letters them with
                assertThat(serving.rejected()).containsEntry("event-type-out-of-range", 1L)
                        .containsEntry("wrong-magic-byte", 1L);
                assertThat(serving.scrape()).contains(
                        "spillway_serving_rejected_events_total{reason=\"event-type-out-of-range\"} 1.0");
                assertThat(JSON.readTree(http.send(HttpRequest.newBuilder(serving.uri().orElseThrow()
                        .resolve("/v1/predict/u")).build(), HttpResponse.BodyHandlers.ofString()).body())
                        .get("offset").asLong()).isZero();

                // a record that is no delta: refused, and the last complete version keeps serving
                deltas.publishGarbage();
                deltas.publishVersion(0.3, 0.05f);
                assertThat(ServingApp.await(Duration.ofSeconds(30), () -> predictor.problem() != null)).isTrue();
                Thread.sleep(500);
                assertThat(predictor.model().orElseThrow().version()).isEqualTo(versions);
                final JsonNode model = JSON.readTree(http.send(HttpRequest.newBuilder(serving.uri().orElseThrow()
                        .resolve("/v1/model")).build(), HttpResponse.BodyHandlers.ofString()).body());
                assertThat(model.get("version").asLong()).isEqualTo(versions);
                assertThat(model.get("degraded").asText()).contains("delta record").contains("cannot be decoded");
                assertThat(model.get("refused").get(0).asText()).contains("cannot be decoded");
                final HttpResponse<String> health = http.send(HttpRequest.newBuilder(serving.uri().orElseThrow()
                        .resolve("/health")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(200);
                assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("DEGRADED");
                final Answer still = answer(JSON.readTree(http.send(request, HttpResponse.BodyHandlers.ofString())
                        .body()));
                assertThat(still.version()).isEqualTo(versions);
                assertThat(still.probabilities()).isEqualTo(expected.get((long) versions));
                assertThat(serving.scrape()).contains("spillway_serving_degraded 1.0");
            }
        }
    }

    private static float[] probabilities(final SyntheticDeltas deltas, final float[] weights) {
        return deltas.inference().score(weights, deltas.inference().zeroState(), EVENTS, false).distributions()
                .getLast().probabilities();
    }

    private static Answer answer(final JsonNode body) {
        final float[] p = new float[6];
        java.util.Arrays.fill(p, Float.NaN);
        for (final JsonNode c : body.get("top")) {
            p[c.get("eventType").asInt()] = (float) c.get("probability").asDouble();
        }
        return new Answer(body.get("modelVersion").asLong(), p);
    }

}
