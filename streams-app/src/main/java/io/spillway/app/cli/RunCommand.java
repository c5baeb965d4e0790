package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import java.io.Console;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Connects to an existing Kafka cluster and schema registry and trains until stopped (SIGTERM/Ctrl+C). */
@Command(name = "run", mixinStandardHelpOptions = true, modelTransformer = AppOptions.Install.class,
        description = "Train continuously on a Kafka cluster; stops cleanly on SIGTERM or Ctrl+C.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Mixin
    AppOptions options;

    @Mixin
    LogOptions logging;

    @Override
    public Integer call() throws Exception {
        final AppConfig config = options.toConfig(cluster.bootstrapServers(), cluster.schemaRegistryUrl());
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
        showProgress(app, stopped);
        return 0;
    }

    /**
     * On an interactive terminal, a live line of what is being trained until stopped (as {@code demo} shows); where
     * the output is collected (a container, a pipe, a file) nothing, as a redrawn line would only add noise there.
     */
    private static void showProgress(final SpillwayApp app, final CountDownLatch stopped) throws InterruptedException {
        final Console console = System.console();
        if (console == null || !console.isTerminal()) {
            stopped.await();
            return;
        }
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("Training").setInitialMax(-1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setUnit(" ev", 1).showSpeed()
                .continuousUpdate().build()) {
            while (!stopped.await(500, TimeUnit.MILLISECONDS)) {
                bar.stepTo(app.trainer().eventsTrained());
                final long dead = app.counters().deadLettered();
                app.ops().latest().ifPresent(f -> bar.setExtraMessage(String.format(Locale.ROOT,
                        " loss %.3f acc %.0f%% (network %.3f) v%d%s", f.publishedLoss(), 100 * f.publishedAccuracy(),
                        f.loss(), f.modelVersion(),
                        dead > 0 ? " dlq " + dead : "")));
            }
        }
    }
}
