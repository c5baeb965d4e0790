package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.follower.ModelFollower;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Keeps a read-only replica of a model up to date from its snapshot and deltas, reporting its version. */
@Command(name = "follow", mixinStandardHelpOptions = true, modelTransformer = AppOptions.Install.class,
        description = "Rebuild a read-only model from its newest snapshot and the deltas after it, and follow it.")
final class FollowCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Mixin
    StopAfter stopAfter;

    @Mixin
    AppOptions options;

    @Override
    public Integer call() throws Exception {
        final AppConfig config = options.toConfig(cluster.bootstrapServers(), cluster.schemaRegistryUrl());
        final Map<String, Object> client = cluster.clientConfig(config.kafkaOverrides());
        final long until = stopAfter.deadlineNanos();
        try (ModelFollower follower = ModelFollower.start(client, cluster.schemaRegistryUrl(), config.registryOverrides(),
                config.topics(), config.trainer().modelId(), config.learner(), config.trainer().scaleOut())) {
            long shown = -1;
            while (System.nanoTime() < until) {
                final long v = follower.poll(Duration.ofMillis(500));
                if (v != shown) {
                    System.out.println("model " + config.trainer().modelId() + " version " + v + " ("
                            + follower.deltasApplied() + " deltas applied)");
                    shown = v;
                }
            }
        }
        return 0;
    }
}
