package io.spillway.app.serving;

import io.spillway.app.ops.OpsSettings;
import io.spillway.app.serving.internals.ServedCategories;
import io.spillway.app.serving.internals.ServingMetrics;
import io.spillway.app.serving.internals.ServingServer;
import io.spillway.app.serving.internals.TopicScorer;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.EventValidator;
import io.spillway.app.vocabulary.VocabularyReader;
import io.spillway.app.vocabulary.VocabularyTopic;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code spillway serve} runs: a {@link Predictor} following the model, a scorer of a topic that writes a
 * prediction per event to the scores topic, and the HTTP prediction API with {@code /health} and {@code /metrics}.
 * Stateless apart from the per-key states, so any number can run side by side (each scorer group splits the scored
 * topic's partitions; give each a group of its own to have every one score everything).
 */
public final class ServingApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServingApp.class);

    /**
     * How to serve.
     *
     * @param predictor what to follow and the per-key bounds
     * @param scoreTopic topic to score, or null to score nothing
     * @param scoresTopic where the predictions go
     * @param group the scorer's consumer group
     * @param limits the scored events' limits (those of the trainer's topology)
     * @param partitions partitions of the scores topic when it must be created
     * @param replicationFactor its replication factor (-1: the broker's default)
     * @param http where the HTTP API listens, or null for none
     * @param httpLimits request limits
     * @param formats how the scored topic's keys and values are written (the trainer's {@code --key-format},
     *        {@code --value-format} and {@code --mapping}); its output keys are not used
     * @param vocabularyTopic the trainer's published dictionary ({@link VocabularyTopic#name}) when its mapping has
     *        a dictionary vocabulary: scored and posted categories take its ids, and predictions carry its
     *        categories; null for none
     */
    public record Settings(PredictorSettings predictor, String scoreTopic, String scoresTopic, String group,
                           EventLimits limits, int partitions, short replicationFactor, OpsSettings http,
                           HttpLimits httpLimits, io.spillway.app.Formats formats, String vocabularyTopic) {
        public Settings {
            Objects.requireNonNull(predictor, "predictor");
            Objects.requireNonNull(scoresTopic, "scoresTopic");
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(limits, "limits");
            Objects.requireNonNull(httpLimits, "httpLimits");
            Objects.requireNonNull(formats, "formats");
        }

        /** Without a dictionary vocabulary. */
        public Settings(final PredictorSettings predictor, final String scoreTopic, final String scoresTopic,
                        final String group, final EventLimits limits, final int partitions,
                        final short replicationFactor, final OpsSettings http, final HttpLimits httpLimits,
                        final io.spillway.app.Formats formats) {
            this(predictor, scoreTopic, scoresTopic, group, limits, partitions, replicationFactor, http, httpLimits,
                    formats, null);
        }

        /** With the default formats: keys and values detected per record, values Spillway's Event. */
        public Settings(final PredictorSettings predictor, final String scoreTopic, final String scoresTopic,
                        final String group, final EventLimits limits, final int partitions,
                        final short replicationFactor, final OpsSettings http, final HttpLimits httpLimits) {
            this(predictor, scoreTopic, scoresTopic, group, limits, partitions, replicationFactor, http, httpLimits,
                    io.spillway.app.Formats.DEFAULTS, null);
        }
    }

    private final Predictor predictor;
    private final ServingMetrics metrics;
    private final TopicScorer scorer;
    private final ServingServer server;
    private final VocabularyReader vocabulary;

    private ServingApp(final Predictor predictor, final ServingMetrics metrics, final TopicScorer scorer,
                       final ServingServer server, final VocabularyReader vocabulary) {
        this.predictor = predictor;
        this.metrics = metrics;
        this.scorer = scorer;
        this.server = server;
        this.vocabulary = vocabulary;
    }

    /** Starts following, scoring and answering; returns once the HTTP endpoint listens. */
    public static ServingApp start(final Settings s) throws IOException {
        final Predictor predictor = Predictor.start(s.predictor());
        final ServingMetrics metrics = new ServingMetrics(predictor);
        TopicScorer scorer = null;
        ServingServer server = null;
        final VocabularyReader vocabulary = s.vocabularyTopic() == null ? null
                : new VocabularyReader(s.predictor().clientConfig(), s.vocabularyTopic(), s.limits().vocabularySize());
        final ServedCategories categories = vocabulary == null ? ServedCategories.NONE
                : new ServedCategories(vocabulary, metrics::unknownCategory);
        try {
            if (s.scoreTopic() != null) {
                createIfMissing(s);
                scorer = new TopicScorer(predictor, s.predictor().clientConfig(), s.predictor().registryUrl(),
                        s.predictor().registryOverrides(), s.scoreTopic(), s.scoresTopic(), s.group(),
                        s.formats(), s.limits(), metrics::scored, metrics::rejected, categories);
                scorer.start();
            }
            final TopicScorer running = scorer;
            if (s.http() != null) {
                server = ServingServer.start(s.http(), predictor, metrics, s.httpLimits(), categories, () -> {
                    final List<String> problems = new ArrayList<>();
                    if (running != null && !running.running()) {
                        problems.add("scoring " + s.scoreTopic() + " stopped"
                                + (running.failure() == null ? "" : ": " + running.failure().getMessage()));
                    }
                    return problems;
                });
            }
        } catch (final IOException | RuntimeException e) {
            if (scorer != null) {
                scorer.close();
            }
            predictor.close();
            metrics.close();
            if (vocabulary != null) {
                vocabulary.close();
            }
            throw e;
        }
        LOG.info("Serving model {}{}", s.predictor().modelId(), s.scoreTopic() == null ? ""
                : ", scoring " + s.scoreTopic() + " into " + s.scoresTopic() + " (group " + s.group() + ")");
        return new ServingApp(predictor, metrics, scorer, server, vocabulary);
    }

    private static void createIfMissing(final Settings s) {
        try (Admin admin = Admin.create(s.predictor().clientConfig())) {
            final Set<String> names = admin.listTopics().names().get();
            if (!names.contains(s.scoresTopic())) {
                admin.createTopics(List.of(new NewTopic(s.scoresTopic(), Optional.of(s.partitions()),
                        s.replicationFactor() < 0 ? Optional.empty() : Optional.of(s.replicationFactor()))))
                        .all().get();
                LOG.info("Created the scores topic {}", s.scoresTopic());
            }
        } catch (final java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create the scores topic " + s.scoresTopic() + ": "
                        + e.getCause().getMessage(), e.getCause());
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the scores topic", e);
        }
    }

    public Predictor predictor() {
        return predictor;
    }

    /** The HTTP API's base URI, if it listens. */
    public Optional<URI> uri() {
        return Optional.ofNullable(server).map(ServingServer::uri);
    }

    /** Predictions written to the scores topic. */
    public long scoresPublished() {
        return scorer == null ? 0 : scorer.published();
    }

    /** Scored-topic events skipped, by reason. */
    public Map<String, Long> rejected() {
        return scorer == null ? Map.of() : scorer.rejected();
    }

    /** Prometheus text of the serving meters. */
    public String scrape() {
        return metrics.scrape();
    }

    /** Waits until {@code condition}, for tests and tools. */
    public static boolean await(final Duration timeout, final java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        if (scorer != null) {
            scorer.close();
        }
        predictor.close();
        metrics.close();
        if (vocabulary != null) {
            vocabulary.close();
        }
    }
}
