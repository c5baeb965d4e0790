package io.spillway.app.serving.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.ModelVersion;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.serving.ServingApp;
import io.spillway.app.serving.SyntheticDeltas;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.LearnerConfig;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The serving benchmark, in one process (broker, registry, serve, load): model versions arrive on the deltas topic at
 * a steady rate the whole time (as a replicated trainer publishes them); meanwhile
 * <ol>
 *   <li>HTTP: {@code POST /v1/predict} (8 events each, keys rotating) sent open-loop at a fixed rate; client-side
 *       latency quantiles;
 *   <li>scoring: a backlog of events on the scored topic, scored into the scores topic; events per second from the
 *       first prediction to the last.
 * </ol>
 * Staleness is each version's publication (its deltas' creation time) to its swap. Writes
 * {@code bench/results/serving.json} (or the path given). Settings: {@code -Dserving.seconds} (HTTP phase, default
 * 60), {@code -Dserving.rate} (requests per second, default 200), {@code -Dserving.events} (scoring backlog, default
 * 50000), {@code -Dserving.versionsPerSecond} (default 5).
 */
public final class ServingBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServingBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/serving.json");
        final int seconds = Integer.getInteger("serving.seconds", 60);
        final int rate = Integer.getInteger("serving.rate", 200);
        final int backlog = Integer.getInteger("serving.events", 50_000);
        final double versionsPerSecond = Double.parseDouble(System.getProperty("serving.versionsPerSecond", "5"));
        final int vocabulary = 64;
        final int features = 16;
        final int hidden = 128;
        final LearnerConfig config = LearnerConfig.builder().vocabularySize(vocabulary).featureDimension(features)
                .hiddenSize(hidden).backend("cpu").seed(42).build();
        final Path dir = Files.createTempDirectory("serving-bench");
        final Topics topics = Topics.defaults();
        final String model = "bench-model";
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final Map<String, Object> client = Map.of("bootstrap.servers", kafka.bootstrapServers());
            try (Admin admin = Admin.create(client)) {
                admin.createTopics(List.of(new NewTopic(topics.deltas(), 1, (short) 1),
                        new NewTopic(topics.snapshots(), 1, (short) 1), new NewTopic(topics.events(), 4, (short) 1),
                        new NewTopic("scores", 4, (short) 1))).all().get();
            }
            final List<Double> staleness = Collections.synchronizedList(new ArrayList<>());
            final AtomicLong swaps = new AtomicLong();
            try (SyntheticDeltas deltas = new SyntheticDeltas(kafka.bootstrapServers(), url, topics, model, config,
                    100_000, 9);
                 ServingApp serving = ServingApp.start(new ServingApp.Settings(PredictorSettings.of(client, url,
                         Map.of(), topics, model, config, ScaleOut.REPLICATE), topics.events(), "scores",
                         "bench-serve", new EventLimits(vocabulary, features, 64, 1 << 20), 4, (short) 1,
                         OpsSettings.of("127.0.0.1", 0, OpsAuth.none()), HttpLimits.DEFAULT))) {
                serving.predictor().awaitModel(Duration.ofSeconds(60));
                serving.predictor().addSwapListener(v -> {
                    swaps.incrementAndGet();
                    if (v.source() == ModelVersion.Source.DELTAS) {
                        staleness.add(v.stalenessSeconds());
                    }
                });
                final boolean[] stop = {false};
                final Thread publisher = new Thread(() -> {
                    final long period = (long) (1e9 / versionsPerSecond);
                    long next = System.nanoTime();
                    while (!stop[0]) {
                        deltas.publishVersion(0.1, 0.01f);
                        next += period;
                        final long wait = next - System.nanoTime();
                        if (wait > 0) {
                            try {
                                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                            } catch (final InterruptedException e) {
                                return;
                            }
                        }
                    }
                }, "bench-deltas");
                publisher.start();

                // 1. HTTP at a fixed rate while versions arrive (the first 10 s warm the JIT and are not counted)
                final List<Double> latencies = http(serving, rate, 10);
                latencies.clear();
                final long swapsBefore = swaps.get();
                staleness.clear();
                final long httpStart = System.nanoTime();
                latencies.addAll(http(serving, rate, seconds));
                final double httpSeconds = (System.nanoTime() - httpStart) / 1e9;
                final long httpSwaps = swaps.get() - swapsBefore;
                final List<Double> httpStaleness = new ArrayList<>(staleness);

                // 2. a backlog on the scored topic, scored while versions keep arriving
                final long scoredBefore = serving.scoresPublished();
                final Thread producer = new Thread(() -> produce(kafka.bootstrapServers(), url, topics.events(),
                        backlog, vocabulary, features), "bench-events");
                producer.start(); // scoring starts while the backlog is still being written
                long first = 0;
                while (serving.scoresPublished() - scoredBefore < backlog) {
                    if (first == 0 && serving.scoresPublished() > scoredBefore) {
                        first = System.nanoTime();
                    }
                    Thread.sleep(5);
                }
                final double scoringSeconds = (System.nanoTime() - first) / 1e9;
                producer.join();
                stop[0] = true;
                publisher.join(10_000);

                Collections.sort(latencies);
                final List<Double> allStaleness = new ArrayList<>(staleness);
                Collections.sort(allStaleness);
                Collections.sort(httpStaleness);
                final ObjectNode figures = JSON.createObjectNode();
                figures.put("model", "egru, vocabulary " + vocabulary + ", features " + features + ", hidden " + hidden
                        + ", 1 layer, cpu backend");
                figures.put("http_request", "POST /v1/predict with 8 events, open loop");
                figures.put("http_rate_per_s", rate);
                figures.put("http_requests", latencies.size());
                figures.put("http_achieved_rate_per_s", round(latencies.size() / httpSeconds));
                figures.put("http_p50_ms", round(quantile(latencies, 0.5)));
                figures.put("http_p99_ms", round(quantile(latencies, 0.99)));
                figures.put("http_max_ms", round(latencies.getLast()));
                figures.put("versions_per_s_published", versionsPerSecond);
                figures.put("version_swaps", swaps.get());
                figures.put("version_swaps_during_http", httpSwaps);
                figures.put("staleness_p50_s", round(quantile(allStaleness, 0.5)));
                figures.put("staleness_p99_s", round(quantile(allStaleness, 0.99)));
                figures.put("staleness_p99_s_during_http", round(quantile(httpStaleness, 0.99)));
                figures.put("scoring_events", backlog);
                figures.put("scoring_events_per_s", Math.round(backlog / scoringSeconds));
                figures.put("settle_ms", PredictorSettings.DEFAULT_SETTLE.toMillis());
                final ObjectNode root = JSON.createObjectNode();
                root.put("benchmark", "serving");
                root.put("machine", machine() + "; one process: broker, registry, serve, load generator");
                root.put("date", LocalDate.now(ZoneOffset.UTC).toString());
                root.put("command", "streams-app/scripts/serving-bench.sh");
                root.set("figures", figures);
                Files.createDirectories(out.toAbsolutePath().getParent());
                Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
                System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            }
        }
    }

    /** Sends POSTs at {@code rate} per second for {@code seconds}, open loop; returns the latencies in ms. */
    private static List<Double> http(final ServingApp serving, final int rate, final int seconds)
            throws InterruptedException {
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        final HttpClient http = HttpClient.newBuilder().executor(pool).build();
        final ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final java.net.URI uri = serving.uri().orElseThrow().resolve("/v1/predict");
        final long total = (long) rate * seconds;
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch((int) total);
        final long period = 1_000_000_000L / rate;
        timer.scheduleAtFixedRate(() -> {
            final long n = sent.getAndIncrement();
            if (n >= total) {
                return;
            }
            final StringBuilder body = new StringBuilder("{\"key\":\"user-" + (n % 1000) + "\",\"k\":5,\"events\":[");
            for (int i = 0; i < 8; i++) {
                body.append(i == 0 ? "" : ",").append("{\"eventType\":").append((n * 7 + i * 13) % 64)
                        .append(",\"features\":{\"indices\":[").append(i).append("],\"values\":[0.5]}}");
            }
            body.append("]}");
            final long started = System.nanoTime();
            http.sendAsync(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                        if (e != null || r.statusCode() != 200) {
                            failed.incrementAndGet();
                        } else {
                            latencies.add((System.nanoTime() - started) / 1e6);
                        }
                        done.countDown();
                    });
        }, 0, period, java.util.concurrent.TimeUnit.NANOSECONDS);
        done.await(seconds + 60L, java.util.concurrent.TimeUnit.SECONDS);
        timer.shutdownNow();
        pool.shutdownNow(); // its threads are not daemons: the JVM would not exit
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " requests failed");
        }
        return new ArrayList<>(latencies);
    }

    private static void produce(final String bootstrap, final String registry, final String topic, final int n,
                                final int vocabulary, final int features) {
        final Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("linger.ms", 20);
        final SequenceGenerator generator = new SequenceGenerator(1000, vocabulary, features, 0.05, 5);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<Event> s = new SpecificAvroSerializer<>(Event.class)) {
            s.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            for (int i = 0; i < n; i++) {
                final Event e = generator.next();
                p.send(new ProducerRecord<>(topic, e.getEntityId(), s.serialize(topic, e)));
            }
        }
    }

    private static double quantile(final List<Double> sorted, final double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    private static double round(final double x) {
        return Double.isFinite(x) ? Math.round(x * 1000) / 1000.0 : -1;
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (final java.io.IOException e) {
            // not Linux: the name stays unknown
        }
        final long memory = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        return String.format(Locale.ROOT, "CPU: %s, %d cores, %.0f GiB", cpu,
                Runtime.getRuntime().availableProcessors(), memory / (double) (1L << 30));
    }
}
