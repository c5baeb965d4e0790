package io.spillway.app.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.replay.ProcessMemory;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Soak benchmark (issue 6; not in CI): the whole app (embedded KRaft broker, HTTP registry, exactly-once
 * topology, trainer with snapshots and chunk-log truncation) fed at a steady rate for a long time, sampling
 * heap after a full GC, direct and mapped buffers and the process's resident memory. Memory is flat when the
 * samples after the warm-up have no upward trend (least-squares slope per minute) and the last third's mean is
 * close to the first third's. Run with {@code streams-app/scripts/soak-bench.sh [minutes] [events/s]}.
 */
public final class SoakBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VOCABULARY = 16;
    private static final int FEATURES = 8;

    private SoakBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/soak.json");
        final double minutes = args.length > 1 ? Double.parseDouble(args[1]) : 30;
        final double rate = args.length > 2 ? Double.parseDouble(args[2]) : 2000;
        final Duration sampleEvery = Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 15);
        final Duration warmUp = Duration.ofSeconds((long) Math.min(300, minutes * 60 / 6));
        final Path dir = Files.createTempDirectory("spillway-soak");
        final List<double[]> samples = new ArrayList<>(); // seconds, heapMb, directMb, mappedMb, rssMb, trained, produced
        final AtomicLong produced = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicBoolean producing = new AtomicBoolean(true);
        final Map<String, Object> figures = new LinkedHashMap<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final LearnerConfig learner = LearnerConfig.builder().vocabularySize(VOCABULARY).featureDimension(FEATURES)
                    .hiddenSize(128).backend("cpu").seed(3).build();
            final AppConfig config = AppConfig.builder().bootstrapServers(kafka.bootstrapServers())
                    .schemaRegistryUrl(registry.url().toString()).applicationId("spillway-soak")
                    .stateDir(dir.resolve("state")).replicationFactor((short) 1).maxChunkWait(Duration.ofMillis(500))
                    .learner(learner).trainer(TrainerSettings.defaults("soak", "soak-1").withSnapshotEvery(100))
                    .limits(new EventLimits(VOCABULARY, FEATURES, 64, 1 << 20)).opsPort(-1).build();
            try (SpillwayApp app = SpillwayApp.start(config)) {
                final Thread producer = new Thread(() -> produce(kafka.bootstrapServers(), registry.url().toString(),
                        minutes, rate, produced, failed, producing), "soak-producer");
                producer.setDaemon(true);
                final long start = System.nanoTime();
                producer.start();
                long next = start;
                while (producing.get()) {
                    next += sampleEvery.toNanos();
                    Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
                    samples.add(sample(start, app, produced.get()));
                    final double[] s = samples.get(samples.size() - 1);
                    System.err.printf(Locale.ROOT, "soak %6.0f s heap %6.1f MB direct %5.1f MB rss %6.1f MB trained %,d of %,d%n",
                            s[0], s[1], s[2], s[4], (long) s[5], (long) s[6]);
                    if (app.trainer().failure() != null) {
                        throw new IllegalStateException("trainer failed", app.trainer().failure());
                    }
                }
                producer.join();
                // drain: every produced event trained or dead-lettered
                final long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (app.trainer().eventsTrainedTotal() + app.counters().deadLettered() < produced.get() - failed.get()
                        && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                final double[] last = sample(start, app, produced.get());
                samples.add(last);
                figures.put("minutes", minutes);
                figures.put("target_events_per_s", rate);
                figures.put("events_produced", produced.get());
                figures.put("events_failed_to_produce", failed.get());
                figures.put("events_trained", app.trainer().eventsTrainedTotal());
                figures.put("events_dead_lettered", app.counters().deadLettered());
                figures.put("model_version", app.learner().version());
                figures.put("diverged_steps", app.learner().divergedSteps());
                figures.put("drained", app.trainer().eventsTrainedTotal() + app.counters().deadLettered()
                        >= produced.get() - failed.get());
            }
        } finally {
            deleteQuietly(dir);
        }
        summarise(samples, warmUp, figures);
        final ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "soak");
        root.put("machine", machine());
        root.put("date", LocalDate.now(ZoneOffset.UTC).toString());
        root.put("command", "streams-app/scripts/soak-bench.sh " + minutes + " " + rate);
        root.set("figures", JSON.valueToTree(figures));
        final ArrayNode rows = root.putArray("samples");
        rows.add("seconds, heap_after_gc_mb, direct_mb, mapped_mb, rss_mb, events_trained, events_produced");
        for (final double[] s : samples) {
            final ArrayNode row = rows.addArray();
            for (final double v : s) {
                row.add(Math.round(v * 10) / 10.0);
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(figures));
    }

    private static double[] sample(final long start, final SpillwayApp app, final long produced) {
        System.gc(); // heap after a full collection: live data, not garbage waiting to be collected
        final double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
        double direct = 0;
        double mapped = 0;
        for (final BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed() / 1048576.0;
            } else if (pool.getName().equals("mapped")) {
                mapped = pool.getMemoryUsed() / 1048576.0;
            }
        }
        return new double[] {(System.nanoTime() - start) / 1e9, heap, direct, mapped,
            ProcessMemory.rssBytes() / 1048576.0, app.trainer().eventsTrainedTotal(), produced};
    }

    /** Slopes (MB per minute) after the warm-up, the first and last thirds' means, and the trained rate. */
    private static void summarise(final List<double[]> samples, final Duration warmUp, final Map<String, Object> figures) {
        final List<double[]> steady = samples.stream().filter(s -> s[0] >= warmUp.toSeconds()).toList();
        figures.put("warm_up_seconds", warmUp.toSeconds());
        figures.put("samples_after_warm_up", steady.size());
        final String[] names = {"heap_after_gc_mb", "direct_mb", "mapped_mb", "rss_mb"};
        for (int c = 0; c < names.length; c++) {
            final int col = c + 1;
            figures.put(names[c] + "_slope_per_min", round(slope(steady, col) * 60));
            final int third = Math.max(1, steady.size() / 3);
            figures.put(names[c] + "_first_third_mean", round(mean(steady.subList(0, third), col)));
            figures.put(names[c] + "_last_third_mean", round(mean(steady.subList(steady.size() - third, steady.size()), col)));
            figures.put(names[c] + "_max", round(steady.stream().mapToDouble(s -> s[col]).max().orElse(Double.NaN)));
        }
        if (steady.size() >= 2) {
            final double[] a = steady.get(0);
            final double[] b = steady.get(steady.size() - 1);
            figures.put("trained_events_per_s_after_warm_up", round((b[5] - a[5]) / (b[0] - a[0])));
            figures.put("max_backlog_events", (long) steady.stream().mapToDouble(s -> s[6] - s[5]).max().orElse(0));
        }
    }

    private static double slope(final List<double[]> rows, final int col) {
        final int n = rows.size();
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (final double[] r : rows) {
            mx += r[0] / n;
            my += r[col] / n;
        }
        double sxy = 0;
        double sxx = 0;
        for (final double[] r : rows) {
            sxy += (r[0] - mx) * (r[col] - my);
            sxx += (r[0] - mx) * (r[0] - mx);
        }
        return sxy / sxx;
    }

    private static double mean(final List<double[]> rows, final int col) {
        return rows.stream().mapToDouble(r -> r[col]).average().orElse(Double.NaN);
    }

    private static double round(final double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void produce(final String bootstrap, final String registry, final double minutes, final double rate,
                                final AtomicLong produced, final AtomicLong failed, final AtomicBoolean producing) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        final SequenceGenerator generator = new SequenceGenerator(64, VOCABULARY, FEATURES, 0.1, 7);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
            final long start = System.nanoTime();
            final long stopAt = start + (long) (minutes * 60e9);
            for (long i = 0; System.nanoTime() < stopAt; i++) {
                final Event e = generator.next();
                producer.send(new ProducerRecord<>("events", e.getEntityId(), serializer.serialize("events", e)),
                        (md, ex) -> {
                            if (ex != null) {
                                failed.incrementAndGet();
                            }
                        });
                produced.incrementAndGet();
                final long wait = start + (long) (i / rate * 1e9) - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            producer.flush();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            producing.set(false);
        }
    }

    private static String machine() {
        String cpu = "CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (final java.io.IOException ignored) {
            // keep the generic name
        }
        return String.format(Locale.ROOT, "CPU: %s, %d cores; JVM -Xmx%d MiB; one process: broker, registry, app",
                cpu, Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
    }

    private static void deleteQuietly(final Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (final java.io.IOException ignored) {
            // a temp folder; the OS cleans it eventually
        }
    }
}
