package io.spillway.app;

import io.spillway.app.ops.OpsAuth;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.InputGuards;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Everything a {@link SpillwayApp} needs. Immutable.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param schemaRegistryUrl Confluent-compatible registry URL ({@code mock://} only in tests)
 * @param applicationId Kafka Streams application id: instances with the same id split the partitions
 * @param stateDir Kafka Streams state directory
 * @param topics topic names
 * @param partitions partitions of topics the app creates when missing
 * @param replicationFactor replication factor of created topics ({@code -1}: the broker's default)
 * @param chunkLength events per chunk handed to the trainer
 * @param maxChunkWait a shorter chunk is handed over after this long
 * @param queueCapacity chunk-log entries the trainer reads ahead per poll at most
 * @param processingGuarantee {@code exactly_once_v2} (default) or {@code at_least_once}
 * @param learner the model and its training settings
 * @param trainer batching and publishing settings
 * @param limits what a valid event looks like
 * @param opsHost interface of the operations endpoint
 * @param opsPort port of the operations endpoint; 0 picks a free one, -1 disables it
 * @param kafkaOverrides extra Kafka client/Streams settings (security, tuning), applied last
 * @param registryOverrides extra registry client settings (e.g. basic auth)
 * @param guards bounds against hostile input: event time ahead of record time, idle keys' state, records waiting
 *        for an unreachable registry (the dead-letter record limit is read from the topic at start)
 * @param formats the formats of record keys in and out
 * @param opsAuth who may read the operations endpoint (binding it beyond loopback needs a token or an explicit choice
 *        of an open endpoint)
 */
public record AppConfig(String bootstrapServers, String schemaRegistryUrl, String applicationId, Path stateDir,
                        Topics topics, int partitions, short replicationFactor, int chunkLength, Duration maxChunkWait,
                        int queueCapacity, String processingGuarantee, LearnerConfig learner, TrainerSettings trainer,
                        EventLimits limits, String opsHost, int opsPort, Map<String, Object> kafkaOverrides,
                        Map<String, Object> registryOverrides, InputGuards guards, Formats formats, OpsAuth opsAuth) {
    public AppConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(schemaRegistryUrl, "schemaRegistryUrl");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(learner, "learner");
        Objects.requireNonNull(trainer, "trainer");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(guards, "guards");
        Objects.requireNonNull(formats, "formats");
        Objects.requireNonNull(opsAuth, "opsAuth");
        kafkaOverrides = Map.copyOf(kafkaOverrides);
        registryOverrides = Map.copyOf(registryOverrides);
        if (partitions <= 0 || chunkLength <= 0 || queueCapacity <= 0) {
            throw new IllegalArgumentException("partitions, chunk length and queue capacity must be > 0");
        }
        if (!processingGuarantee.equals("exactly_once_v2") && !processingGuarantee.equals("at_least_once")) {
            throw new IllegalArgumentException("processing guarantee must be exactly_once_v2 or at_least_once: "
                    + processingGuarantee);
        }
    }

    /** With an operations endpoint that needs no authentication (and so binds only to loopback). */
    public AppConfig(final String bootstrapServers, final String schemaRegistryUrl, final String applicationId,
                     final Path stateDir, final Topics topics, final int partitions, final short replicationFactor,
                     final int chunkLength, final Duration maxChunkWait, final int queueCapacity,
                     final String processingGuarantee, final LearnerConfig learner, final TrainerSettings trainer,
                     final EventLimits limits, final String opsHost, final int opsPort,
                     final Map<String, Object> kafkaOverrides, final Map<String, Object> registryOverrides,
                     final InputGuards guards, final Formats formats) {
        this(bootstrapServers, schemaRegistryUrl, applicationId, stateDir, topics, partitions, replicationFactor,
                chunkLength, maxChunkWait, queueCapacity, processingGuarantee, learner, trainer, limits, opsHost, opsPort,
                kafkaOverrides, registryOverrides, guards, formats, OpsAuth.none());
    }

    /** With the default {@link InputGuards} and {@link Formats}, and an operations endpoint without authentication. */
    public AppConfig(final String bootstrapServers, final String schemaRegistryUrl, final String applicationId,
                     final Path stateDir, final Topics topics, final int partitions, final short replicationFactor,
                     final int chunkLength, final Duration maxChunkWait, final int queueCapacity,
                     final String processingGuarantee, final LearnerConfig learner, final TrainerSettings trainer,
                     final EventLimits limits, final String opsHost, final int opsPort,
                     final Map<String, Object> kafkaOverrides, final Map<String, Object> registryOverrides) {
        this(bootstrapServers, schemaRegistryUrl, applicationId, stateDir, topics, partitions, replicationFactor,
                chunkLength, maxChunkWait, queueCapacity, processingGuarantee, learner, trainer, limits, opsHost, opsPort,
                kafkaOverrides, registryOverrides, InputGuards.DEFAULTS, Formats.DEFAULTS, OpsAuth.none());
    }

    /** The same configuration with another learner. */
    public AppConfig withLearner(final LearnerConfig other) {
        return new AppConfig(bootstrapServers, schemaRegistryUrl, applicationId, stateDir, topics, partitions,
                replicationFactor, chunkLength, maxChunkWait, queueCapacity, processingGuarantee, other, trainer, limits,
                opsHost, opsPort, kafkaOverrides, registryOverrides, guards, formats, opsAuth);
    }

    /** The same configuration with other trainer settings. */
    public AppConfig withTrainer(final TrainerSettings other) {
        return new AppConfig(bootstrapServers, schemaRegistryUrl, applicationId, stateDir, topics, partitions,
                replicationFactor, chunkLength, maxChunkWait, queueCapacity, processingGuarantee, learner, other, limits,
                opsHost, opsPort, kafkaOverrides, registryOverrides, guards, formats, opsAuth);
    }

    /**
     * Names the settings but not the values of the overrides, and hides user information in the registry URL: those
     * hold passwords ({@code sasl.jaas.config}, {@code ssl.*.password}, {@code basic.auth.user.info}).
     */
    @Override
    public String toString() {
        return "AppConfig[bootstrapServers=" + bootstrapServers + ", schemaRegistryUrl="
                + schemaRegistryUrl.replaceFirst("//[^/@]*@", "//***@")
                + ", applicationId=" + applicationId + ", stateDir=" + stateDir + ", topics=" + topics
                + ", partitions=" + partitions + ", replicationFactor=" + replicationFactor + ", chunkLength="
                + chunkLength + ", maxChunkWait=" + maxChunkWait + ", queueCapacity=" + queueCapacity
                + ", processingGuarantee=" + processingGuarantee + ", learner=" + learner + ", trainer=" + trainer
                + ", limits=" + limits + ", opsHost=" + opsHost + ", opsPort=" + opsPort + ", kafkaOverrides="
                + new TreeSet<>(kafkaOverrides.keySet()) + ", registryOverrides="
                + new TreeSet<>(registryOverrides.keySet()) + ", guards=" + guards + ", formats=" + formats
                + ", opsAuth=" + opsAuth + "]";
    }
}
