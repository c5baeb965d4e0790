package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.serving.HttpLimits;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.serving.ServingApp;
import io.spillway.app.vocabulary.VocabularyTopic;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Serves predictions from the newest model version: follows the snapshot and deltas, scores a topic into the scores
 * topic, and answers the HTTP prediction API (docs/serving.md).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, modelTransformer = AppOptions.Install.class,
        description = "Serve next-event predictions from the newest model version: score a topic and answer HTTP.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Option(names = "--score-topic", description = "Topic of events to score, one prediction per event (default: the "
            + "events topic).")
    String scoreTopic;

    @Option(names = "--no-scoring", description = "Score no topic; answer HTTP only.")
    boolean noScoring;

    @Option(names = "--scores-topic", defaultValue = "scores", description = "Where the predictions go, Avro "
            + "ServedPrediction keyed by entity id (default: ${DEFAULT-VALUE}).")
    String scoresTopic;

    @Option(names = "--serve-group", description = "Consumer group of the scorer (default: <application-id>-serve).")
    String group;

    @Option(names = "--http-host", defaultValue = "127.0.0.1", description = "Interface of the prediction API "
            + "(default: ${DEFAULT-VALUE}); beyond loopback it needs --ops-auth-token-file or "
            + "--ops-allow-unauthenticated.")
    String httpHost;

    @Option(names = "--http-port", defaultValue = "8080", description = "Port of the prediction API; 0 = any free, "
            + "-1 = off (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--max-keys", defaultValue = "" + PredictorSettings.DEFAULT_MAX_KEYS,
            description = "Per-key states kept; the least recently scored key is evicted first (default: "
                    + "${DEFAULT-VALUE}).")
    int maxKeys;

    @Option(names = "--key-idle-timeout", defaultValue = "PT1H", description = "Evict a key not scored this long; "
            + "PT0S = never (default: ${DEFAULT-VALUE}).")
    Duration keyIdleTimeout;

    @Option(names = "--top-k", defaultValue = "" + PredictorSettings.DEFAULT_TOP_K,
            description = "Candidates per prediction (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--settle", defaultValue = "PT0.1S", description = "Quiet time at the end of the deltas topic "
            + "before a version is taken as complete (default: ${DEFAULT-VALUE}).")
    Duration settle;

    @Option(names = "--max-request-bytes", defaultValue = "65536", description = "Largest HTTP request body "
            + "(default: ${DEFAULT-VALUE}).")
    int maxRequestBytes;

    @Option(names = "--max-request-events", defaultValue = "256", description = "Most events in one POST "
            + "/v1/predict (default: ${DEFAULT-VALUE}).")
    int maxRequestEvents;

    @Mixin
    StopAfter stopAfter;

    @Mixin
    AppOptions options;

    @Override
    public Integer call() throws Exception {
        final AppConfig config = options.toConfig(cluster.bootstrapServers(), cluster.schemaRegistryUrl());
        final Map<String, Object> client = cluster.clientConfig(config.kafkaOverrides());
        final PredictorSettings predictor = PredictorSettings.of(client, cluster.schemaRegistryUrl(),
                config.registryOverrides(), config.topics(), config.trainer().modelId(), config.learner(),
                config.trainer().scaleOut()).withKeyBounds(maxKeys, keyIdleTimeout).withTopK(topK)
                .withFollowing(settle, PredictorSettings.DEFAULT_REBASE_INTERVAL);
        final OpsSettings http = httpPort < 0 ? null : OpsSettings.of(httpHost, httpPort, config.opsAuth());
        final ServingApp.Settings settings = new ServingApp.Settings(predictor,
                noScoring ? null : scoreTopic != null ? scoreTopic : config.topics().events(), scoresTopic,
                group != null ? group : config.applicationId() + "-serve", config.limits(), config.partitions(),
                config.replicationFactor(), http, new HttpLimits(maxRequestBytes, maxRequestEvents), config.formats(),
                // the trainer's published dictionary: its categories' ids are the model's
                config.formats().mapping() != null && config.formats().mapping().usesDictionary()
                        ? VocabularyTopic.name(config.applicationId()) : null);
        final long until = stopAfter.deadlineNanos();
        try (ServingApp app = ServingApp.start(settings)) {
            final Thread main = Thread.currentThread();
            final Thread hook = new Thread(main::interrupt, "spillway-serve-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            app.uri().ifPresent(u -> System.out.println("serving predictions on " + u + "v1/predict"));
            long shown = -1;
            try {
                while (System.nanoTime() < until) {
                    Thread.sleep(500);
                    final long v = app.predictor().model().map(m -> m.version()).orElse(-1L);
                    if (v != shown) {
                        System.out.println("model " + config.trainer().modelId() + " version " + v + " ("
                                + app.scoresPublished() + " predictions published)");
                        shown = v;
                    }
                }
            } catch (final InterruptedException e) {
                // Ctrl+C: close below
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (final IllegalStateException ignored) {
                    // already shutting down
                }
            }
        }
        return 0;
    }
}
