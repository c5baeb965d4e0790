package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.follower.ModelFollower;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Keeps a read-only replica of a model up to date from its snapshot and deltas, reporting its version. */
@Command(name = "follow", mixinStandardHelpOptions = true, modelTransformer = AppOptions.Install.class,
        description = "Rebuild a read-only model from its newest snapshot and the deltas after it, and follow it.")
final class FollowCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--schema-registry-url", required = true, description = "Schema registry URL.")
    String schemaRegistryUrl;

    @Option(names = "--for", description = "Stop after this long, ISO-8601 or e.g. 30s (default: until Ctrl+C).")
    String duration;

    @Mixin
    AppOptions options;

    @Override
    public Integer call() throws Exception {
        final AppConfig config = options.toConfig(bootstrapServers, schemaRegistryUrl);
        final Map<String, Object> client = new HashMap<>(config.kafkaOverrides());
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        final long until = duration == null ? Long.MAX_VALUE
                : System.nanoTime() + parse(duration).toNanos();
        try (ModelFollower follower = ModelFollower.start(client, schemaRegistryUrl, config.registryOverrides(),
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

    private static Duration parse(final String text) {
        final String t = text.trim().toUpperCase(java.util.Locale.ROOT);
        return t.startsWith("P") ? Duration.parse(t) : Duration.parse("PT" + t);
    }
}
