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
 * Everything a {@link SpillwayApp} needs. Immutable. Made with {@link #builder()} (by name, not by position), or
 * from the typed settings by {@link io.spillway.app.config.AppSettings#configure}.
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
        Objects.requireNonNull(maxChunkWait, "maxChunkWait");
        Objects.requireNonNull(processingGuarantee, "processingGuarantee");
        Objects.requireNonNull(opsHost, "opsHost");
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

    /**
     * A builder with the CLI's defaults where there is one; the cluster, state directory, learner, trainer and event
     * limits have none and must be set. ({@link io.spillway.app.config.AppSettings#configure} makes one from the
     * typed settings.)
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to change some of it. */
    public Builder toBuilder() {
        return new Builder().bootstrapServers(bootstrapServers).schemaRegistryUrl(schemaRegistryUrl)
                .applicationId(applicationId).stateDir(stateDir).topics(topics).partitions(partitions)
                .replicationFactor(replicationFactor).chunkLength(chunkLength).maxChunkWait(maxChunkWait)
                .queueCapacity(queueCapacity).processingGuarantee(processingGuarantee).learner(learner)
                .trainer(trainer).limits(limits).opsHost(opsHost).opsPort(opsPort).kafkaOverrides(kafkaOverrides)
                .registryOverrides(registryOverrides).guards(guards).formats(formats).opsAuth(opsAuth);
    }

    /** The same configuration with another learner. */
    public AppConfig withLearner(final LearnerConfig other) {
        return toBuilder().learner(other).build();
    }

    /** The same configuration with other trainer settings. */
    public AppConfig withTrainer(final TrainerSettings other) {
        return toBuilder().trainer(other).build();
    }

    /** Builds an {@link AppConfig} by name rather than by position; see {@link AppConfig} for each value. */
    public static final class Builder {
        private String bootstrapServers;
        private String schemaRegistryUrl;
        private String applicationId = "spillway";
        private Path stateDir;
        private Topics topics = Topics.defaults();
        private int partitions = 4;
        private short replicationFactor = -1;
        private int chunkLength = 64;
        private Duration maxChunkWait = Duration.ofSeconds(2);
        private int queueCapacity = 64;
        private String processingGuarantee = "exactly_once_v2";
        private LearnerConfig learner;
        private TrainerSettings trainer;
        private EventLimits limits;
        private String opsHost = "127.0.0.1";
        private int opsPort = 9404;
        private Map<String, Object> kafkaOverrides = Map.of();
        private Map<String, Object> registryOverrides = Map.of();
        private InputGuards guards = InputGuards.DEFAULTS;
        private Formats formats = Formats.DEFAULTS;
        private OpsAuth opsAuth = OpsAuth.none();

        private Builder() {
        }

        public Builder bootstrapServers(final String v) {
            bootstrapServers = v;
            return this;
        }

        public Builder schemaRegistryUrl(final String v) {
            schemaRegistryUrl = v;
            return this;
        }

        public Builder applicationId(final String v) {
            applicationId = v;
            return this;
        }

        public Builder stateDir(final Path v) {
            stateDir = v;
            return this;
        }

        public Builder topics(final Topics v) {
            topics = v;
            return this;
        }

        public Builder partitions(final int v) {
            partitions = v;
            return this;
        }

        public Builder replicationFactor(final short v) {
            replicationFactor = v;
            return this;
        }

        public Builder chunkLength(final int v) {
            chunkLength = v;
            return this;
        }

        public Builder maxChunkWait(final Duration v) {
            maxChunkWait = v;
            return this;
        }

        public Builder queueCapacity(final int v) {
            queueCapacity = v;
            return this;
        }

        public Builder processingGuarantee(final String v) {
            processingGuarantee = v;
            return this;
        }

        public Builder learner(final LearnerConfig v) {
            learner = v;
            return this;
        }

        public Builder trainer(final TrainerSettings v) {
            trainer = v;
            return this;
        }

        public Builder limits(final EventLimits v) {
            limits = v;
            return this;
        }

        public Builder opsHost(final String v) {
            opsHost = v;
            return this;
        }

        /** 0 picks a free port, -1 disables the endpoint. */
        public Builder opsPort(final int v) {
            opsPort = v;
            return this;
        }

        public Builder kafkaOverrides(final Map<String, Object> v) {
            kafkaOverrides = v;
            return this;
        }

        public Builder registryOverrides(final Map<String, Object> v) {
            registryOverrides = v;
            return this;
        }

        public Builder guards(final InputGuards v) {
            guards = v;
            return this;
        }

        public Builder formats(final Formats v) {
            formats = v;
            return this;
        }

        public Builder opsAuth(final OpsAuth v) {
            opsAuth = v;
            return this;
        }

        public AppConfig build() {
            return new AppConfig(bootstrapServers, schemaRegistryUrl, applicationId, stateDir, topics, partitions,
                    replicationFactor, chunkLength, maxChunkWait, queueCapacity, processingGuarantee, learner, trainer,
                    limits, opsHost, opsPort, kafkaOverrides, registryOverrides, guards, formats, opsAuth);
        }
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
