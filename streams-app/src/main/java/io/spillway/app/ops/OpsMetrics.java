package io.spillway.app.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The learner's operational figures as Micrometer meters (served to Prometheus by {@link OpsServer}),
 * plus a bounded history of recent steps for the live dashboard. JVM and, once bound, Kafka Streams and
 * client metrics are registered too.
 *
 * <p>Threading: {@link #record} and {@link #deadLettered} may be called from any thread (the trainer
 * thread and stream threads); readers see a consistent latest step.
 */
public final class OpsMetrics implements AutoCloseable {
    /** Steps kept for the dashboard's curves. */
    public static final int HISTORY = 3000;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<TrainingFigures> latest = new AtomicReference<>();
    private final ArrayDeque<TrainingFigures> history = new ArrayDeque<>();
    private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();
    private final Map<String, Long> deadLetterCounts = new ConcurrentHashMap<>();
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private KafkaStreamsMetrics streamsMetrics;

    public OpsMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        gauge("spillway.training.loss", "Prequential loss of the last step, nats per event", TrainingFigures::loss);
        gauge("spillway.training.accuracy", "Prequential next-event accuracy of the last step", TrainingFigures::accuracy);
        gauge("spillway.prediction.loss", "Prequential loss of the last step's published predictions (the network mixed"
                + " with the context model), nats per event", TrainingFigures::predictionLoss);
        gauge("spillway.prediction.accuracy", "Accuracy of the last step's published predictions",
                TrainingFigures::predictionAccuracy);
        gauge("spillway.mixture.pairs", "(Context, event type) pairs the prediction mixture counts; past its bound"
                + " (--mixture pairs) it counts no new ones", f -> f.mixturePairs());
        gauge("spillway.training.events.per.second", "Trained events per second", TrainingFigures::eventsPerSecond);
        gauge("spillway.training.events.trained", "Events trained since start", f -> f.eventsTrained());
        gauge("spillway.training.consumer.lag", "Records behind the end of the input topic (-1 unknown)",
                f -> f.consumerLag());
        gauge("spillway.training.queue.depth", "Chunk-log entries not trained yet", f -> f.queueDepth());
        gauge("spillway.memory.device.peak.bytes", "Peak device bytes of the last step", f -> f.peakDeviceBytes());
        gauge("spillway.memory.offchip.bytes", "Bytes spilled to off-chip memory", f -> f.offChipBytes());
        gauge("spillway.memory.transfer.bytes", "Bytes moved between device and off-chip memory in the last step",
                f -> f.transferBytes());
        gauge("spillway.checkpoint.recompute.ratio", "Recomputed over trained forward steps",
                TrainingFigures::recomputeRatio);
        gauge("spillway.optimizer.window.bytes", "Bytes of the optimizer's gradient window and residuals",
                f -> f.optimizerWindowBytes());
        gauge("spillway.training.diverged.steps", "Steps rolled back for a non-finite loss or update",
                f -> f.divergedSteps());
        gauge("spillway.model.version", "Model version", f -> f.modelVersion());
    }

    private void gauge(final String name, final String help, final ToDoubleFunction<TrainingFigures> value) {
        Gauge.builder(name, latest, ref -> {
            final TrainingFigures f = ref.get();
            return f == null ? Double.NaN : value.applyAsDouble(f);
        }).description(help).register(registry);
    }

    /** Registers Kafka Streams' own and its clients' metrics. Call once the streams instance exists. */
    public synchronized void bindKafkaStreams(final KafkaStreams streams) {
        if (streamsMetrics == null) {
            streamsMetrics = new KafkaStreamsMetrics(streams);
            streamsMetrics.bindTo(registry);
        }
    }

    /**
     * Registers the liveness gauges: {@code spillway_streams_client_running} (1 while the Kafka Streams client is
     * rebalancing or running), {@code spillway_streams_client_state{state=...}} (1 for the client's state now, 0 for
     * the others), {@code spillway_trainer_alive} and {@code spillway_live} (1 while {@code /health} answers 200).
     */
    public void bindLiveness(final Liveness liveness) {
        Gauge.builder("spillway.streams.client.running", liveness, Liveness::streamsRunning)
                .description("1 while the Kafka Streams client is rebalancing or running, else 0")
                .strongReference(true).register(registry);
        for (final KafkaStreams.State state : KafkaStreams.State.values()) {
            Gauge.builder("spillway.streams.client.state", liveness, l -> l.streamsState() == state ? 1 : 0)
                    .description("1 for the Kafka Streams client's state now, 0 for the others").tag("state", state.name())
                    .strongReference(true).register(registry);
        }
        Gauge.builder("spillway.trainer.alive", liveness, Liveness::trainerAlive)
                .description("1 while the trainer thread runs, else 0").strongReference(true).register(registry);
        Gauge.builder("spillway.live", liveness, l -> l.check().up() ? 1 : 0)
                .description("1 while the app is live (what /health answers), else 0").strongReference(true)
                .register(registry);
    }

    /**
     * Registers the figures of split training (held strongly: the suppliers are lambdas nothing else keeps): peer deltas applied, residual flushes, and the chunk-log partitions
     * this instance trains.
     */
    public void bindSplitTraining(final java.util.function.LongSupplier peerDeltasApplied,
                                  final java.util.function.LongSupplier residualFlushes,
                                  final java.util.function.IntSupplier ownedPartitions) {
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.scaleout.peer.deltas.applied",
                peerDeltasApplied, java.util.function.LongSupplier::getAsLong)
                .description("Delta records of other instances applied to this instance's model").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.scaleout.residual.flushes", residualFlushes,
                java.util.function.LongSupplier::getAsLong)
                .description("Times this instance published its whole error-feedback residual").register(registry);
        heldSuppliers.add(peerDeltasApplied);
        heldSuppliers.add(residualFlushes);
        Gauge.builder("spillway.scaleout.owned.partitions", ownedPartitions, s -> s.getAsInt())
                .description("Chunk-log partitions this instance trains").strongReference(true).register(registry);
    }

    /**
     * Registers the topology's guards against hostile input: records waiting for an unreachable schema registry,
     * failed registry look-ups, dead letters truncated to fit, idle keys whose state was deleted.
     */
    public void bindPipeline(final io.spillway.app.topology.PipelineCounters counters) {
        heldSuppliers.add(counters);
        Gauge.builder("spillway.registry.waiting.records", counters, c -> c.waitingForRegistry())
                .description("Input records waiting for the schema registry (it was unreachable when they came)")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.registry.unavailable", counters,
                c -> c.registryUnavailable())
                .description("Writer-schema look-ups that failed because the registry was unreachable").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.dlq.truncated", counters,
                c -> c.deadLettersTruncated())
                .description("Dead letters sent with key or value truncated to fit the dead-letter topic")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.keys.expired", counters, c -> c.keysExpired())
                .description("Idle keys whose bookkeeping was deleted after the key-state retention").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.vocabulary.overflows", counters,
                c -> c.vocabularyOverflows())
                .description("Categories of trained records that took the dictionary vocabulary's overflow class "
                        + "because it was full").register(registry);
        Gauge.builder("spillway.vocabulary.categories", counters, c -> c.vocabularyCategories())
                .description("Categories with an id of their own in the dictionary vocabulary").register(registry);
    }

    /** Registers the times publishing the trainer's output waited for an unreachable schema registry. */
    public void bindPublishingRegistryWaits(final java.util.function.LongSupplier waits) {
        heldSuppliers.add(waits);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.registry.publish.waits", waits,
                java.util.function.LongSupplier::getAsLong)
                .description("Times publishing the trainer's output waited for an unreachable schema registry")
                .register(registry);
    }

    /** Counts snapshot records and versions refused while restoring ({@code spillway_snapshot_refusals_total}). */
    public void bindSnapshotRefusals(final java.util.function.IntSupplier refusals) {
        heldSuppliers.add(refusals);
        io.micrometer.core.instrument.FunctionCounter.builder("spillway.snapshot.refusals", refusals, r -> r.getAsInt())
                .description("Snapshot records and versions refused while restoring (undecodable, incomplete, "
                        + "failing their checksum or validation)").register(registry);
    }

    /** Suppliers registered as function counters, which Micrometer holds only weakly. */
    private final List<Object> heldSuppliers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Records one training step. */
    public void record(final TrainingFigures figures) {
        latest.set(figures);
        synchronized (history) {
            history.addLast(figures);
            while (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
    }

    /** Counts one dead-lettered record by its reason code. */
    public void deadLettered(final String reason) {
        deadLetters.computeIfAbsent(reason, r -> Counter.builder("spillway.dlq.records")
                .description("Records sent to the dead-letter topic, by reason").tag("reason", r)
                .register(registry)).increment();
        deadLetterCounts.merge(reason, 1L, Long::sum);
    }

    public Optional<TrainingFigures> latest() {
        return Optional.ofNullable(latest.get());
    }

    /** The recent steps, oldest first. */
    public List<TrainingFigures> history() {
        synchronized (history) {
            return new ArrayList<>(history);
        }
    }

    /** Dead-lettered records by reason, sorted by reason. */
    public Map<String, Long> deadLetterCounts() {
        return new TreeMap<>(deadLetterCounts);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        if (streamsMetrics != null) {
            streamsMetrics.close();
        }
        gcMetrics.close();
        registry.close();
    }
}
