package io.spillway.app.cli;

import io.spillway.app.ops.SvgReport;
import io.spillway.schemas.avro.TrainingMetrics;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Renders a run's curves from the metrics topic to SVG files. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Render loss, accuracy, throughput and memory curves from the metrics topic to SVG files.")
final class ReportCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Option(names = "--metrics-topic", defaultValue = "training-metrics", description = "Metrics topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--model-id", description = "Only this model (default: all).")
    String modelId;

    @Option(names = "--out", defaultValue = "spillway-report", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        final List<TrainingMetrics> all = MetricsTopicReader.readAll(cluster.bootstrapServers(), cluster.schemaRegistryUrl(), topic, modelId);
        if (all.isEmpty()) {
            System.err.println("No training metrics on " + topic + "; nothing to render.");
            return 3;
        }
        for (final Path file : SvgReport.write(all.stream().map(MetricsTopicReader::figures).toList(), out)) {
            System.out.println(file.toAbsolutePath());
        }
        return 0;
    }
}
