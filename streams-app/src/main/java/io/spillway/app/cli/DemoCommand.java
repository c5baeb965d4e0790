package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.config.AppSettings;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.ops.TrainingFigures;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The one-command demo: an in-JVM KRaft broker and the project's schema registry on 127.0.0.1, a generator
 * of long per-key sequences with learnable structure, and the app training on them, with progress.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, modelTransformer = AppOptions.Install.class,
        description = "Start an embedded Kafka broker and schema registry, stream synthetic sequences and train on them.")
final class DemoCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);

    @Option(names = "--events", defaultValue = "200000", description = "Events to generate (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--keys", defaultValue = "64", description = "Entities (sequences), interleaved (default: ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--noise", defaultValue = "0.1", description = "Probability that an event is random (default: ${DEFAULT-VALUE}).")
    double noise;

    @Option(names = "--rate", defaultValue = "0", description = "Events per second to produce; 0 = as fast as possible.")
    double rate;

    @Option(names = "--duration", converter = DurationConverter.class,
            description = "Stop producing after this long, e.g. 30s, 5m, 1h (default: produce all --events).")
    Duration duration;

    @Option(names = "--keep-running", description = "Keep the broker, registry, app and dashboard up after the stream ends, until Ctrl+C.")
    boolean keepRunning;

    @Option(names = "--data-dir", description = "Folder for the broker's log, the registry's store and state (default: a new temp folder).")
    Path dataDir;

    @Mixin
    AppOptions options;

    @Mixin
    LogOptions logging;

    @Override
    public Integer call() throws Exception {
        options.checkOpsExposure();
        final PrintStream out = System.out;
        final Path dir = dataDir != null ? Files.createDirectories(dataDir) : Files.createTempDirectory("spillway-demo");
        out.println("Spillway demo: starting an embedded Kafka broker (KRaft) and schema registry in " + dir);
        try (LogRouting logs = logging.start(dir.resolve("spillway.log"), out);
             EmbeddedKafka kafka = logs.withStdoutLogged(() -> EmbeddedKafka.start(dir.resolve("kafka")));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            if (!options.settings().isGiven(AppSettings.STATE_DIR)) {
                options.set(AppSettings.STATE_DIR, dir.resolve("streams-state"));
            }
            final int opsPort = options.settings().get(AppSettings.OPS_PORT);
            if (opsPort > 0 && !portFree(options.settings().get(AppSettings.OPS_HOST), opsPort)) {
                out.println("Port " + opsPort + " is busy; the dashboard takes a free port instead.");
                options.set(AppSettings.OPS_PORT, 0);
            }
            final AppConfig config = options.toConfig(kafka.bootstrapServers(), registry.url().toString());
            out.printf(Locale.ROOT, "Broker %s  registry %s%n", kafka.bootstrapServers(), registry.url());
            final io.spillway.engine.LearnerConfig model = config.learner();
            out.printf(Locale.ROOT, "Model: %s, %d x %d units, %s at learning rate %s%s%n", model.cell().equals("egru")
                    ? "event-based GRU (units emit only above a threshold; activity held near "
                    + model.activityTarget() + ")" : "spiking LIF network", model.layers(), model.hiddenSize(),
                    model.optimizer(), model.learningRate(), " (--cell, see docs/learner.md)");
            final long started = System.nanoTime();
            try (SpillwayApp app = SpillwayApp.start(config)) {
                if (app.opsUri() != null) {
                    out.printf("Dashboard %sdashboard   Prometheus metrics %smetrics%n", app.opsUri(), app.opsUri());
                }
                awaitLeaders(kafka, config);
                final AtomicLong produced = new AtomicLong();
                final AtomicLong failed = new AtomicLong();
                final AtomicBoolean producing = new AtomicBoolean(true);
                final Thread producer = new Thread(() -> {
                    try {
                        produce(kafka.bootstrapServers(), registry.url().toString(), config, produced, failed);
                    } finally {
                        producing.set(false);
                    }
                }, "spillway-demo-producer");
                producer.setDaemon(true);
                producer.start();
                track(app, out, () -> producing.get() ? events : produced.get() - failed.get());
                producer.join();
                if (failed.get() > 0) {
                    out.printf(Locale.ROOT, "%d of %d generated events could not be produced (see the log)%n",
                            failed.get(), produced.get());
                }
                final double seconds = (System.nanoTime() - started) / 1e9;
                summary(app, config, seconds, out);
                if (keepRunning) {
                    out.println("Still running (Ctrl+C to stop).");
                    Thread.currentThread().join();
                }
            }
        }
        return 0;
    }

    /** Producing into topics the app has only just created can race the broker taking their leadership. */
    private static void awaitLeaders(final EmbeddedKafka kafka, final AppConfig config) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!admin.describeTopics(config.topics().all()).allTopicNames().get().values().stream()
                    .flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the embedded broker did not elect leaders for " + config.topics().all());
                }
                Thread.sleep(50);
            }
        }
    }

    private void produce(final String bootstrap, final String registryUrl, final AppConfig config,
                         final AtomicLong produced, final AtomicLong failed) {
        final Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        final SequenceGenerator generator = new SequenceGenerator(keys, config.limits().vocabularySize(),
                config.limits().featureDimension(), noise, 7);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl), false);
            final long start = System.nanoTime();
            final long stopAt = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
            for (long i = 0; i < events && System.nanoTime() < stopAt; i++) {
                final Event e = generator.next();
                producer.send(new ProducerRecord<>(config.topics().events(), e.getEntityId(),
                        serializer.serialize(config.topics().events(), e)), (metadata, error) -> {
                            if (error != null && failed.getAndIncrement() == 0) {
                                LOG.error("Producing a demo event failed: {}", error.toString());
                            }
                        });
                produced.incrementAndGet();
                if (rate > 0) {
                    final long due = start + (long) (i / rate * 1e9);
                    final long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
            }
            producer.flush();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Shows progress until every produced event is trained or dead-lettered. */
    private void track(final SpillwayApp app, final PrintStream out, final LongSupplier target) throws InterruptedException {
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("Training").setInitialMax(events)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setUnit(" ev", 1)
                .showSpeed().continuousUpdate().build()) {
            long lastProgress = System.nanoTime();
            long lastDone = -1;
            while (true) {
                final long done = app.trainer().eventsTrained() + app.counters().deadLettered();
                bar.stepTo(done);
                app.ops().latest().ifPresent(f -> bar.setExtraMessage(String.format(Locale.ROOT,
                        " loss %.3f acc %.0f%% (network %.3f) v%d", f.publishedLoss(), 100 * f.publishedAccuracy(),
                        f.loss(), f.modelVersion())));
                final long goal = target.getAsLong();
                if (goal != events) {
                    bar.maxHint(goal);
                }
                if (done >= goal) {
                    break;
                }
                if (done != lastDone) {
                    lastDone = done;
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > Duration.ofSeconds(120).toNanos()) {
                    out.println();
                    out.println("No progress for 2 minutes; stopping the demo (streams state " + app.streamsState()
                            + ", trainer " + (app.trainer().failure() == null ? "alive" : app.trainer().failure()) + ")");
                    break;
                }
                Thread.sleep(200);
            }
        }
    }

    private void summary(final SpillwayApp app, final AppConfig config, final double seconds, final PrintStream out) {
        final List<TrainingFigures> steps = app.ops().history();
        final int window = Math.max(1, Math.min(20, steps.size() / 5));
        out.println();
        out.printf(Locale.ROOT, "Trained %d events (%d dead-lettered) in %.1f s: %.0f events/s end to end, %d model versions%n",
                app.trainer().eventsTrained(), app.counters().deadLettered(), seconds,
                app.trainer().eventsTrained() / seconds, app.learner().version());
        if (!steps.isEmpty()) {
            final List<TrainingFigures> last = steps.subList(steps.size() - window, steps.size());
            out.printf(Locale.ROOT, "Prequential loss of the published predictions: first %d steps %.3f -> last %d"
                            + " steps %.3f nats/event (uniform guess: %.3f; the network alone: %.3f); accuracy now"
                            + " %.1f%%%n",
                    window, mean(steps.subList(0, window), TrainingFigures::publishedLoss), window,
                    mean(last, TrainingFigures::publishedLoss), Math.log(config.limits().vocabularySize()),
                    mean(last, TrainingFigures::loss), 100 * mean(last, TrainingFigures::publishedAccuracy));
        }
        out.println("Topics: " + String.join(", ", config.topics().all()) + " (Avro, Confluent wire format)");
        out.println("Metrics: the '" + config.topics().metrics() + "' topic"
                + (app.opsUri() == null ? "" : ", Prometheus " + app.opsUri() + "metrics, dashboard " + app.opsUri() + "dashboard"));
    }

    private static boolean portFree(final String host, final int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName(host))) {
            return true;
        } catch (final java.io.IOException busy) {
            return false;
        }
    }

    private static double mean(final List<TrainingFigures> fs, final ToDoubleFunction<TrainingFigures> figure) {
        return fs.stream().mapToDouble(figure).filter(Double::isFinite).average().orElse(Double.NaN);
    }
}
