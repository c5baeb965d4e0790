package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Connects to an existing Kafka cluster and schema registry and trains until stopped (SIGTERM/Ctrl+C). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Train continuously on a Kafka cluster; stops cleanly on SIGTERM or Ctrl+C.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers, e.g. localhost:9092.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", required = true, description = "Confluent-compatible schema registry URL.")
    String schemaRegistryUrl;

    @Mixin
    AppOptions options;

    @Mixin
    LogOptions logging;

    @Override
    public Integer call() throws Exception {
        final AppConfig config = options.toConfig(bootstrapServers, schemaRegistryUrl);
        // kept until the process ends: the shutdown's log lines go to the file too
        logging.start(config.stateDir().resolve(config.applicationId() + ".log"), System.err);
        final SpillwayApp app = SpillwayApp.start(config);
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "spillway-shutdown"));
        if (app.opsUri() != null) {
            System.err.println("Metrics: " + app.opsUri() + "metrics   Dashboard: " + app.opsUri() + "dashboard");
        }
        stopped.await();
        return 0;
    }
}
