package io.spillway.app.cli;

import io.spillway.schemas.avro.TrainingMetrics;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints a summary of a model's training from the metrics topic. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Summarise training from the metrics topic.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", required = true, description = "Schema registry URL.")
    String schemaRegistryUrl;

    @Option(names = "--metrics-topic", defaultValue = "training-metrics", description = "Metrics topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--model-id", description = "Only this model (default: all).")
    String modelId;

    @Override
    public Integer call() {
        final List<TrainingMetrics> all = MetricsTopicReader.readAll(bootstrapServers, schemaRegistryUrl, topic, modelId);
        print(all, System.out);
        return all.isEmpty() ? 3 : 0;
    }

    static void print(final List<TrainingMetrics> all, final PrintStream out) {
        if (all.isEmpty()) {
            out.println("No training metrics yet on the metrics topic.");
            return;
        }
        final TrainingMetrics last = all.get(all.size() - 1);
        final int window = Math.max(1, Math.min(20, all.size() / 4));
        out.printf(Locale.ROOT, "model %s  instance %s  version %d  (%d metric records)%n", last.getModelId(),
                last.getInstanceId(), last.getModelVersion(), all.size());
        out.printf(Locale.ROOT, "backend %s  optimizer %s  schedule %s%n", last.getBackend(), last.getOptimizer(),
                last.getCheckpointSchedule());
        out.printf(Locale.ROOT, "loss      first %d steps %.4f  ->  last %d steps %.4f nats/event%n", window,
                mean(all.subList(0, window), true), window, mean(all.subList(all.size() - window, all.size()), true));
        out.printf(Locale.ROOT, "accuracy  last %d steps %.1f%%%n", window,
                100 * mean(all.subList(all.size() - window, all.size()), false));
        out.printf(Locale.ROOT, "events trained %d  dead-lettered %d  events/s %.0f  queue %d  lag %s%n",
                last.getEventsTrained(), last.getEventsDeadLettered(), last.getEventsPerSecond(), last.getQueueDepth(),
                last.getConsumerLag() == null ? "unknown" : last.getConsumerLag().toString());
        out.printf(Locale.ROOT, "memory    peak device %.1f MiB  off-chip %.1f MiB  optimizer window %.1f MiB  recompute %.2f%n",
                last.getPeakDeviceBytes() / 1048576.0, last.getOffChipBytes() / 1048576.0,
                last.getOptimizerWindowBytes() / 1048576.0, last.getRecomputeRatio());
        out.printf(Locale.ROOT, "diverged steps %d%n", last.getDivergedSteps());
    }

    private static double mean(final List<TrainingMetrics> ms, final boolean loss) {
        return ms.stream().mapToDouble(m -> loss ? m.getLoss() : m.getAccuracy()).filter(Double::isFinite).average()
                .orElse(Double.NaN);
    }
}
