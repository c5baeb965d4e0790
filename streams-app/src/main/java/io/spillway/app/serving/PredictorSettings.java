package io.spillway.app.serving;

import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.engine.LearnerConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link Predictor} follows and how it bounds itself. Immutable.
 *
 * @param clientConfig Kafka client settings (bootstrap servers, security)
 * @param registryUrl schema registry URL
 * @param registryOverrides registry client settings (credentials, trust store)
 * @param topics the model's topics (snapshots and deltas are read)
 * @param modelId the model to follow
 * @param learner the model's configuration (cell, shape, seed): the trainer's, so its snapshots and deltas fit
 * @param scaleOut how the model is trained ({@code replicate} or {@code split})
 * @param maxKeys per-key states kept at most; the least recently scored key is evicted first
 * @param idleTimeout a key not scored this long is evicted (zero: never)
 * @param settle quiet time after the deltas topic's end is reached before a version is taken as complete (see
 *     docs/serving.md)
 * @param topK candidates in each prediction
 * @param rebaseInterval after a refused delta, how often to look for a newer snapshot to start again from
 */
public record PredictorSettings(Map<String, Object> clientConfig, String registryUrl,
                                Map<String, Object> registryOverrides, Topics topics, String modelId,
                                LearnerConfig learner, ScaleOut scaleOut, int maxKeys, Duration idleTimeout,
                                Duration settle, int topK, Duration rebaseInterval) {
    public static final int DEFAULT_MAX_KEYS = 100_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final Duration DEFAULT_SETTLE = Duration.ofMillis(100);
    public static final int DEFAULT_TOP_K = 5;
    public static final Duration DEFAULT_REBASE_INTERVAL = Duration.ofSeconds(30);

    public PredictorSettings {
        clientConfig = Map.copyOf(clientConfig);
        Objects.requireNonNull(registryUrl, "registryUrl");
        registryOverrides = Map.copyOf(registryOverrides);
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(learner, "learner");
        Objects.requireNonNull(scaleOut, "scaleOut");
        if (maxKeys < 1 || topK < 1 || idleTimeout.isNegative() || settle.isNegative() || rebaseInterval.isNegative()
                || rebaseInterval.isZero()) {
            throw new IllegalArgumentException("max keys and top-k must be at least 1, durations not negative");
        }
    }

    /** Defaults for everything but what to follow. */
    public static PredictorSettings of(final Map<String, Object> clientConfig, final String registryUrl,
                                       final Map<String, Object> registryOverrides, final Topics topics,
                                       final String modelId, final LearnerConfig learner, final ScaleOut scaleOut) {
        return new PredictorSettings(clientConfig, registryUrl, registryOverrides, topics, modelId, learner, scaleOut,
                DEFAULT_MAX_KEYS, DEFAULT_IDLE_TIMEOUT, DEFAULT_SETTLE, DEFAULT_TOP_K, DEFAULT_REBASE_INTERVAL);
    }

    /** The same with other per-key state bounds. */
    public PredictorSettings withKeyBounds(final int keys, final Duration idle) {
        return new PredictorSettings(clientConfig, registryUrl, registryOverrides, topics, modelId, learner, scaleOut,
                keys, idle, settle, topK, rebaseInterval);
    }

    /** The same with another number of candidates per prediction. */
    public PredictorSettings withTopK(final int k) {
        return new PredictorSettings(clientConfig, registryUrl, registryOverrides, topics, modelId, learner, scaleOut,
                maxKeys, idleTimeout, settle, k, rebaseInterval);
    }

    /** The same with another settle time and rebase interval. */
    public PredictorSettings withFollowing(final Duration settleTime, final Duration rebase) {
        return new PredictorSettings(clientConfig, registryUrl, registryOverrides, topics, modelId, learner, scaleOut,
                maxKeys, idleTimeout, settleTime, topK, rebase);
    }
}
