package io.spillway.app.cli;

import io.spillway.schemas.avro.TrainingMetrics;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Prints a summary of a model's training from the metrics topic, and the dead letters counted on the dead-letter topic
 * (which has those that came after the last training step too).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Summarise training from the metrics topic, and the dead letters on the dead-letter topic.")
final class StatusCommand implements Callable<Integer> {
    private static final Duration DEAD_LETTER_READ_BUDGET = Duration.ofSeconds(60);

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--metrics-topic", defaultValue = "training-metrics", description = "Metrics topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--model-id", description = "Only this model (default: all).")
    String modelId;

    @Option(names = "--dead-letter-topic", defaultValue = "events-dlq",
            description = "Dead-letter topic to count (default: ${DEFAULT-VALUE}).")
    String deadLetterTopic;

    @Option(names = "--events-topic",
            description = "Only count the dead letters of records from this input topic (default: all).")
    String eventsTopic;

    @Override
    public Integer call() {
        final List<TrainingMetrics> all = MetricsTopicReader.readAll(cluster.bootstrapServers(), cluster.schemaRegistryUrl(), topic, modelId);
        print(all, System.out);
        print(DeadLetterTopicReader.read(cluster.bootstrapServers(), deadLetterTopic, eventsTopic, DEAD_LETTER_READ_BUDGET),
                all.isEmpty() ? null : all.get(all.size() - 1), System.out);
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
        out.printf(Locale.ROOT, "events trained %d  events/s %.0f  queue %d  lag %s%n",
                last.getEventsTrained(), last.getEventsPerSecond(), last.getQueueDepth(),
                last.getConsumerLag() == null ? "unknown" : last.getConsumerLag().toString());
        out.printf(Locale.ROOT, "memory    peak device %.1f MiB  off-chip %.1f MiB  optimizer window %.1f MiB  recompute %.2f%n",
                last.getPeakDeviceBytes() / 1048576.0, last.getOffChipBytes() / 1048576.0,
                last.getOptimizerWindowBytes() / 1048576.0, last.getRecomputeRatio());
        out.printf(Locale.ROOT, "diverged steps %d%n", last.getDivergedSteps());
    }

    /**
     * The dead-letter line: the count on the topic by reason, and what the last training step had counted (its
     * instance's dead letters since it started, as of that step).
     *
     * @param last the newest metrics record, or null when there is none
     */
    static void print(final DeadLetterTopicReader.Count dead, final TrainingMetrics last, final PrintStream out) {
        final StringBuilder line = new StringBuilder("dead letters   ");
        if (!dead.exists()) {
            line.append("none (no topic ").append(dead.topic()).append(')');
        } else {
            line.append(dead.complete() ? "" : "at least ").append(dead.total()).append(" on ").append(dead.topic());
            if (!dead.byReason().isEmpty()) {
                final StringJoiner reasons = new StringJoiner(", ", " (", ")");
                dead.byReason().forEach((reason, n) -> reasons.add(reason + " " + n));
                line.append(reasons);
            }
            if (!dead.complete()) {
                line.append(", stopped reading after ").append(DEAD_LETTER_READ_BUDGET.toSeconds()).append(" s");
            }
        }
        if (last != null) {
            line.append("; the last training step had counted ").append(last.getEventsDeadLettered());
        }
        out.println(line);
        if (dead.newestTimestampMs() >= 0) {
            out.printf(Locale.ROOT, "newest dead letter  %s, record time %s%n", dead.newestReason(),
                    Instant.ofEpochMilli(dead.newestTimestampMs()));
        }
    }

    private static double mean(final List<TrainingMetrics> ms, final boolean loss) {
        return ms.stream().mapToDouble(m -> loss ? m.getLoss() : m.getAccuracy()).filter(Double::isFinite).average()
                .orElse(Double.NaN);
    }
}
