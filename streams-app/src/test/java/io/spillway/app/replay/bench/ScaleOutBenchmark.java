package io.spillway.app.replay.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.replay.CharacterVocabulary;
import io.spillway.app.replay.RealDataset;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SplitTrainerLoop;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
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
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * What splitting the training costs in quality: the same real-data stream (linux-doc, as the realdata benchmark
 * makes it, on four input partitions) trained by one instance, and by two instances in split training at
 * several error-feedback densities ({@code -Dscaleout.densities}, default 0.1, 0.3 and 1 = no compression), all through the whole app (embedded broker and registry,
 * exactly-once), one after the other in one process. Reports each run's prequential loss (weighted over every
 * instance's steps), trained events per second, steps, and for split runs the largest weight difference between
 * the replicas after the stream drained. Not in CI: {@code streams-app/scripts/scaleout-bench.sh}.
 */
public final class ScaleOutBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ScaleOutBenchmark() {
    }

    private record Setting(String name, int instances, ScaleOut mode, double density) {
    }

    public static void main(final String[] args) throws Exception {
        final Path out = Path.of(args.length > 0 ? args[0] : "bench/results/scaleout.json");
        final String optimizer = System.getProperty("scaleout.optimizer", "mfac-sparse");
        final RealDataset ds = RealDataset.byId(System.getProperty("scaleout.dataset", "linux-doc"));
        final Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("dataset", ds.id());
        figures.put("events", RealDataBenchmark.EVENTS);
        figures.put("optimizer", optimizer);
        figures.put("hidden", RealDataBenchmark.HIDDEN);
        figures.put("chunk_length", RealDataBenchmark.CHUNK);
        figures.put("batch_keys", RealDataBenchmark.BATCH_KEYS);
        figures.put("input_partitions", 4);
        final List<Setting> settings = new ArrayList<>();
        settings.add(new Setting("one_instance", 1, ScaleOut.REPLICATE, 1.0));
        for (final String d : System.getProperty("scaleout.densities", "0.1,0.3,1").split(",")) {
            settings.add(new Setting("split2_density_" + d.strip().replace('.', '_'), 2, ScaleOut.SPLIT,
                    Double.parseDouble(d)));
        }
        for (final Setting s : settings) {
            if (!System.getProperty("scaleout.settings", s.name()).contains(s.name())) {
                continue;
            }
            run(ds, optimizer, s).forEach((k, v) -> figures.put(s.name() + "." + k, v));
            System.out.println(s.name() + ": " + figures);
        }
        final Object base = figures.get("one_instance.loss_nats");
        for (final Setting s : settings) {
            if (base != null && s.mode() == ScaleOut.SPLIT && figures.containsKey(s.name() + ".loss_nats")) {
                figures.put(s.name() + ".loss_ratio_to_one_instance",
                        round((double) figures.get(s.name() + ".loss_nats") / (double) base));
            }
        }
        final ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "scaleout");
        String cpu = "CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (final java.io.IOException ignored) {
            // keep the generic name
        }
        root.put("machine", String.format(Locale.ROOT, "CPU: %s, %d cores; one process: broker, registry, every"
                + " instance", cpu, Runtime.getRuntime().availableProcessors()));
        root.put("date", LocalDate.now(ZoneOffset.UTC).toString());
        root.put("command", "streams-app/scripts/scaleout-bench.sh");
        root.set("figures", JSON.valueToTree(figures));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(figures));
    }

    private static Map<String, Object> run(final RealDataset ds, final String optimizer, final Setting s)
            throws Exception {
        final Path dir = Files.createTempDirectory("spillway-scaleout");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final Topics topics = Topics.defaults();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(topics.events(), Optional.of(4), Optional.of((short) 1))))
                        .all().get();
            }
            final long produced = RealDataBenchmark.produce(ds, kafka.bootstrapServers(), registry.url().toString(),
                    topics.events());
            final List<SpillwayApp> apps = new ArrayList<>();
            try {
                for (int i = 0; i < s.instances(); i++) {
                    apps.add(SpillwayApp.start(AppConfig.builder().bootstrapServers(kafka.bootstrapServers())
                            .schemaRegistryUrl(registry.url().toString()).applicationId("scaleout")
                            .stateDir(dir.resolve("state-" + i)).topics(topics).replicationFactor((short) 1)
                            .chunkLength(RealDataBenchmark.CHUNK).maxChunkWait(Duration.ofMillis(200))
                            .learner(RealDataBenchmark.learner(optimizer))
                            .trainer(TrainerSettings.defaults("scaleout", "i" + i)
                                    .withBatchKeys(RealDataBenchmark.BATCH_KEYS).withScaleOut(s.mode(), s.density()))
                            .limits(new EventLimits(CharacterVocabulary.SIZE, 0, 4096, 1 << 20)).opsPort(-1)
                            .build()));
                }
                long firstAt = 0;
                long lastProgress = System.nanoTime();
                long seen = -1;
                while (true) {
                    final long done = apps.stream().mapToLong(a -> a.trainer().eventsTrained()).sum();
                    final long now = System.nanoTime();
                    if (firstAt == 0 && done > 0) {
                        firstAt = now;
                    }
                    if (done != seen) {
                        seen = done;
                        lastProgress = now;
                    }
                    if (done >= produced) {
                        break;
                    }
                    if (now - lastProgress > Duration.ofSeconds(120).toNanos()
                            || apps.stream().anyMatch(a -> a.trainer().failure() != null)) {
                        throw new IllegalStateException(s.name() + " stalled at " + done + " of " + produced);
                    }
                    Thread.sleep(10);
                }
                final double seconds = (System.nanoTime() - firstAt) / 1e9;
                final Map<String, Object> f = new LinkedHashMap<>();
                double weighted = 0;
                double weights = 0;
                long steps = 0;
                for (final SpillwayApp app : apps) {
                    long before = 0;
                    for (final TrainingFigures t : app.ops().history()) {
                        if (Boolean.getBoolean("scaleout.trace") && t.modelVersion() % 20 == 0) {
                            System.out.printf("TRACE %s v%d trained %d loss %.3f%n", s.name(), t.modelVersion(),
                                    t.eventsTrained(), t.loss());
                        }
                        final long n = t.eventsTrained() - before;
                        before = t.eventsTrained();
                        if (Double.isFinite(t.loss()) && n > 0) {
                            weighted += t.loss() * n;
                            weights += n;
                        }
                    }
                    steps += app.trainer().steps();
                }
                f.put("loss_nats", round(weighted / weights));
                f.put("bits_per_event", round(weighted / weights / Math.log(2)));
                f.put("events_per_s", Math.round(produced / seconds));
                f.put("steps", steps);
                if (s.mode() == ScaleOut.SPLIT && apps.size() > 1) {
                    final long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (!apps.stream().allMatch(a -> ((SplitTrainerLoop) a.trainer()).quiescent())
                            && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    Thread.sleep(2_000); // the last residuals reach the peers
                    f.put("events_trained_per_instance", apps.stream().map(a -> a.trainer().eventsTrained()).toList());
                    f.put("max_abs_weight_difference", maxDifference(apps.get(0).learner().parameters(),
                            apps.get(1).learner().parameters()));
                }
                return f;
            } finally {
                for (final SpillwayApp app : apps) {
                    app.close();
                }
            }
        }
    }

    private static double maxDifference(final Map<String, float[]> x, final Map<String, float[]> y) {
        double max = 0;
        for (final Map.Entry<String, float[]> e : x.entrySet()) {
            final float[] other = y.get(e.getKey());
            for (int i = 0; i < other.length; i++) {
                max = Math.max(max, Math.abs(e.getValue()[i] - other[i]));
            }
        }
        return max;
    }

    private static double round(final double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
