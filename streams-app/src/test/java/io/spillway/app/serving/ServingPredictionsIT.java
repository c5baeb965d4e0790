package io.spillway.app.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.it.TestApps;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.Inference;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.PredictionMixture;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.ModelSnapshotChunk;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.ServedPrediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code serve}'s predictions on the scores topic equal the trainer's prequential predictions on the predictions
 * topic, bitwise (CPU backend), wherever both made them with the same model version from the same events and that
 * version's weights are exactly the trainer's (its initial weights; a snapshot), for both cells and both scale-out
 * modes. Replicated, a serve restarted from the trainer's snapshot also holds the trainer's weights bitwise and agrees
 * with the long-running one (which built the same version from deltas, to rounding), refusing a damaged newer
 * snapshot with its reason.
 */
class ServingPredictionsIT {
    @TempDir
    Path dir;

    private AppConfig config(final AppConfig base, final String cell, final ScaleOut mode) {
        // the network's predictions alone on both sides: with a mixture, each side's counts are of the events in the
        // order it saw them (across keys, the trainer's batches and serve's partitions order them differently)
        return config(base, cell, mode, "none");
    }

    private AppConfig config(final AppConfig base, final String cell, final ScaleOut mode, final String mixture) {
        final LearnerConfig learner = LearnerConfig.builder().cell(cell).vocabularySize(8).featureDimension(16)
                .hiddenSize(24).optimizer("adam").learningRate(0.01f).backend("cpu").seed(3).mixture(mixture).build();
        final TrainerSettings t = new TrainerSettings("it-model", "it-instance", 8, 4, 100_000, 512 * 1024)
                .withScaleOut(mode, 0.3);
        return base.toBuilder().chunkLength(8).learner(learner).trainer(t).build();
    }

    private static ServingApp serve(final AppConfig c, final Map<Long, ModelVersion.Source> sources,
                                    final String group) throws Exception {
        return serve(c, sources, group, c.topics().events());
    }

    private static ServingApp serve(final AppConfig c, final Map<Long, ModelVersion.Source> sources,
                                    final String group, final String scored) throws Exception {
        final ServingApp app = ServingApp.start(new ServingApp.Settings(PredictorSettings.of(
                Map.of("bootstrap.servers", c.bootstrapServers()), c.schemaRegistryUrl(), Map.of(), c.topics(),
                c.trainer().modelId(), c.learner(), c.trainer().scaleOut()).withTopK(8), scored,
                "scores", group, c.limits(), 2, (short) 1, null, HttpLimits.DEFAULT));
        app.predictor().model().ifPresent(v -> sources.put(v.version(), v.source()));
        app.predictor().addSwapListener(v -> sources.putIfAbsent(v.version(), v.source()));
        assertThat(app.predictor().awaitModel(Duration.ofSeconds(60))).isTrue();
        app.predictor().model().ifPresent(v -> sources.putIfAbsent(v.version(), v.source()));
        return app;
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"egru, replicate", "lif, replicate", "egru, split", "lif, split"})
    void servedPredictionsEqualTheTrainersBitwise(final String cell, final String mode) throws Exception {
        final ScaleOut scaleOut = ScaleOut.parse(mode);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig c = config(TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8), cell,
                    scaleOut);
            final Map<Long, ModelVersion.Source> sources = new ConcurrentHashMap<>();
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 31);
            final int events = 320;
            final Map<String, float[]> trained;
            final long trainedVersion;
            final ServingApp longRunning;
            try (SpillwayApp trainer = SpillwayApp.start(c)) {
                awaitTopics(kafka.bootstrapServers(), c.topics());
                longRunning = serve(c, sources, "serve-1");
                produce(kafka.bootstrapServers(), url, generator, events, "");
                TestApps.await("trained", Duration.ofSeconds(120), () -> trainer.trainer().eventsTrained() == events);
                TestApps.await("scored", Duration.ofSeconds(60), () -> longRunning.scoresPublished() == events);
                trained = trainer.learner().parameters();
                trainedVersion = trainer.learner().version();
            }
            final int compared = compare(kafka.bootstrapServers(), url, c.topics(), sources, "", 0);
            assertThat(compared).as("predictions compared at exact versions").isGreaterThanOrEqualTo(20);
            assertThat(sources.get(0L)).isEqualTo(ModelVersion.Source.INITIAL);
            if (scaleOut == ScaleOut.SPLIT) {
                longRunning.close();
                return;
            }
            // replicated: a damaged newer snapshot is refused, the trainer's own restores bitwise
            publishDamagedSnapshot(kafka.bootstrapServers(), url, c, trainedVersion + 1_000);
            TestApps.await("long-running serve at the trained version", Duration.ofSeconds(30),
                    () -> longRunning.predictor().model().orElseThrow().version() == trainedVersion);
            final Map<Long, ModelVersion.Source> restartedSources = new ConcurrentHashMap<>();
            // serve first: the trainer, restarting, may retire the damaged snapshot
            try (ServingApp restarted = serve(c, restartedSources, "serve-2");
                 SpillwayApp trainer = SpillwayApp.start(c)) {
                final ModelVersion v = restarted.predictor().model().orElseThrow();
                assertThat(v.version()).isEqualTo(trainedVersion);
                assertThat(v.source()).isEqualTo(ModelVersion.Source.SNAPSHOT);
                try (Inference inference = Inference.create(c.learner())) {
                    assertThat(v.weights()).isEqualTo(inference.flatten(trained));
                }
                assertThat(restarted.predictor().refusals()).anyMatch(r -> r.contains("snapshot version "
                        + (trainedVersion + 1_000)) && r.contains("checksum mismatch"));
                // the long-running one built the same version from deltas: the same model, to rounding
                final ModelVersion built = longRunning.predictor().model().orElseThrow();
                assertThat(built.source()).isEqualTo(ModelVersion.Source.DELTAS);
                final float[] a = built.weights();
                final float[] b = v.weights();
                for (int i = 0; i < a.length; i++) {
                    assertThat((double) a[i]).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-4));
                }
                final var probe = List.of(io.spillway.engine.SparseEvent.ofType(2),
                        io.spillway.engine.SparseEvent.ofType(5));
                final NextEvent x = longRunning.predictor().predictWith(built, probe, 8);
                final NextEvent y = restarted.predictor().predictWith(v, probe, 8);
                assertThat((double) x.probability()).isCloseTo(y.probability(),
                        org.assertj.core.data.Offset.offset(1e-3));
                longRunning.close();
                // a group of its own, so no rebalance delays it: it scores the first events again, then the new ones
                TestApps.await("first events scored again", Duration.ofSeconds(60),
                        () -> restarted.scoresPublished() == events);
                // new keys, trained from the snapshot's version on: their predictions there are exact again
                produce(kafka.bootstrapServers(), url, new SequenceGenerator(16, 8, 16, 0.05, 77), events, "b-");
                TestApps.await("trained again", Duration.ofSeconds(120),
                        () -> trainer.trainer().eventsTrained() == events);
                TestApps.await("scored again", Duration.ofSeconds(60), () -> restarted.scoresPublished() == 2L * events);
            }
            final int again = compare(kafka.bootstrapServers(), url, c.topics(), restartedSources, "b-",
                    trainedVersion);
            assertThat(again).as("predictions compared at the snapshot's version").isGreaterThanOrEqualTo(20);
        }
    }

    /**
     * With the default mixture, a serve started from the trainer's snapshot mixes with the trainer's counts and
     * mixing weights as the snapshot holds them: before it has scored anything, its prediction after a probe equals,
     * bitwise, a copy of the trainer's mixture over the trainer's network.
     */
    @Test
    void aServeStartedFromASnapshotMixesWithTheTrainersCounts() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig c = config(TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8), "egru",
                    ScaleOut.REPLICATE, io.spillway.engine.mixture.MixtureSpec.DEFAULT);
            final int events = 320;
            final var probe = List.of(io.spillway.engine.SparseEvent.ofType(2), io.spillway.engine.SparseEvent.ofType(5),
                    io.spillway.engine.SparseEvent.ofType(5));
            final Inference.Distribution expected;
            final int trainerPairs;
            final long trainedVersion;
            try (SpillwayApp trainer = SpillwayApp.start(c); Inference inference = Inference.create(c.learner())) {
                awaitTopics(kafka.bootstrapServers(), c.topics());
                produce(kafka.bootstrapServers(), url, new SequenceGenerator(16, 8, 16, 0.05, 31), events, "");
                TestApps.await("trained", Duration.ofSeconds(120), () -> trainer.trainer().eventsTrained() == events);
                final PredictionMixture counts = PredictionMixture.of(trainer.learner()).orElseThrow();
                trainerPairs = counts.pairs();
                trainedVersion = trainer.learner().version();
                long context = PredictionMixture.EMPTY;
                for (final io.spillway.engine.SparseEvent e : probe) {
                    context = counts.advance(context, e.eventType());
                }
                expected = counts.distribution(context, inference.score(inference.flatten(trainer.learner()
                        .parameters()), inference.zeroState(), probe, false).distributions().getLast());
            }
            assertThat(trainerPairs).isPositive();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("quiet", 1, (short) 1)))
                        .all().get();
            }
            try (ServingApp served = serve(c, new ConcurrentHashMap<>(), "serve-quiet", "quiet")) {
                final ModelVersion v = served.predictor().model().orElseThrow();
                assertThat(v.source()).isEqualTo(ModelVersion.Source.SNAPSHOT);
                assertThat(v.version()).isEqualTo(trainedVersion);
                assertThat(served.predictor().mixturePairs()).isEqualTo(trainerPairs);
                final NextEvent answer = served.predictor().predictWith(v, probe, 8);
                assertThat(answer.predictedType()).isEqualTo(expected.argMax());
                assertThat(Float.floatToRawIntBits(answer.probability()))
                        .isEqualTo(Float.floatToRawIntBits(expected.probability()));
                // and it is not what the network alone predicts
                try (Inference inference = Inference.create(c.learner())) {
                    assertThat(answer.probability()).isNotEqualTo(inference.score(v.weights(),
                            inference.zeroState(), probe, false).distributions().getLast().probabilities()[
                            answer.predictedType()]);
                }
            }
        }
    }

    /**
     * Compares, key by key in event order, the trainer's j-th prediction with serve's prediction after the key's j-th
     * event, while both made every prediction of the key so far with one version of exact weights.
     *
     * @return predictions compared
     */
    private static int compare(final String bootstrap, final String url, final Topics topics,
                               final Map<Long, ModelVersion.Source> sources, final String prefix, final long atLeast) {
        final Map<String, List<Prediction>> trainer = new HashMap<>();
        for (final Prediction p : read(bootstrap, url, topics.predictions(), Prediction.class)) {
            if (p.getEntityId().startsWith(prefix)) {
                trainer.computeIfAbsent(p.getEntityId(), k -> new ArrayList<>()).add(p);
            }
        }
        final Map<String, List<ServedPrediction>> served = new HashMap<>();
        for (final ServedPrediction p : read(bootstrap, url, "scores", ServedPrediction.class)) {
            if (p.getEntityId().startsWith(prefix)) {
                served.computeIfAbsent(p.getEntityId(), k -> new ArrayList<>()).add(p);
            }
        }
        int compared = 0;
        final StringBuilder seen = new StringBuilder();
        for (final Map.Entry<String, List<Prediction>> e : trainer.entrySet()) {
            seen.append(e.getKey()).append(": trainer ").append(e.getValue().stream().map(Prediction::getModelVersion)
                    .distinct().toList()).append(", serve ").append(served.getOrDefault(e.getKey(), List.of()).stream()
                    .map(ServedPrediction::getModelVersion).distinct().toList()).append("; ");
            final List<ServedPrediction> s = served.getOrDefault(e.getKey(), List.of()).stream()
                    .sorted(Comparator.comparingLong(ServedPrediction::getSourceOffset)).toList();
            final List<Prediction> t = e.getValue();
            final long version = t.getFirst().getModelVersion();
            for (int j = 0; j < Math.min(t.size(), s.size()); j++) {
                final boolean exact = sources.get(version) == ModelVersion.Source.INITIAL
                        || sources.get(version) == ModelVersion.Source.SNAPSHOT;
                if (!exact || version < atLeast || t.get(j).getModelVersion() != version
                        || s.get(j).getModelVersion() != version) {
                    break; // from here on the key's history mixes versions, or weights known only to rounding
                }
                final String what = e.getKey() + " prediction " + j + " at version " + version;
                assertThat(s.get(j).getPredictedEventType()).as(what).isEqualTo(t.get(j).getPredictedEventType());
                assertThat(Float.floatToRawIntBits(s.get(j).getProbability())).as(what + ": " + s.get(j)
                        .getProbability() + " vs " + t.get(j).getProbability())
                        .isEqualTo(Float.floatToRawIntBits(t.get(j).getProbability()));
                assertThat(s.get(j).getTop().getFirst().getEventType()).isEqualTo(t.get(j).getPredictedEventType());
                compared++;
            }
        }
        if (compared < 20) {
            System.out.println("versions by key (sources " + sources + "): " + seen);
        }
        return compared;
    }

    private static void produce(final String bootstrap, final String registry, final SequenceGenerator generator,
                                final int n, final String prefix) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            for (int i = 0; i < n; i++) {
                final Event e = generator.next();
                e.setEntityId(prefix + e.getEntityId());
                p.send(new ProducerRecord<>("events", e.getEntityId(), s.serialize("events", e)));
            }
        }
    }

    private static void publishDamagedSnapshot(final String bootstrap, final String registry, final AppConfig c,
                                               final long version) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        final byte[] payload = "not the state it claims".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<ModelSnapshotChunk> s = new SpecificAvroSerializer<>(ModelSnapshotChunk.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            final ModelSnapshotChunk chunk = ModelSnapshotChunk.newBuilder().setModelId(c.trainer().modelId())
                    .setInstanceId("it-instance").setVersion(version).setFormat(io.spillway.app.trainer.TrainerCheckpoint.FORMAT)
                    .setChunkIndex(0).setChunkCount(1).setTotalBytes(payload.length).setSha256("0".repeat(64))
                    .setPayload(ByteBuffer.wrap(payload)).setCreatedAtMs(System.currentTimeMillis()).build();
            final String topic = c.topics().snapshots();
            p.send(new ProducerRecord<>(topic, c.trainer().modelId() + "/" + version + "/0",
                    s.serialize(topic, chunk)));
        }
    }

    private static void awaitTopics(final String bootstrap, final Topics topics) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            TestApps.await("the app's topics", Duration.ofSeconds(60), () -> {
                try {
                    return admin.listTopics().names().get().containsAll(List.of(topics.events(), topics.deltas(),
                            topics.snapshots(), topics.predictions()));
                } catch (final Exception e) {
                    return false;
                }
            });
        }
        TestApps.awaitLeaders(bootstrap, List.of(topics.events(), topics.deltas(), topics.snapshots()));
    }

    private static <T extends SpecificRecord> List<T> read(final String bootstrap, final String registry,
                                                           final String topic, final Class<T> type) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_committed");
        final List<T> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             SpecificAvroDeserializer<T> d = new SpecificAvroDeserializer<>(type)) {
            d.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            final List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(20)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            final Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (final ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    if (r.value() != null) {
                        out.add(d.deserialize(topic, r.value()));
                    }
                }
            }
        }
        return out;
    }
}
