package io.spillway.app.cli;

import io.spillway.app.AppConfig;
import io.spillway.app.ops.OpsAuth;
import io.spillway.app.ops.OpsServer;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.InputGuards;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.ValueFormat;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options shared by the commands that train: the model, the pipeline and the Kafka settings. */
final class AppOptions {
    @Option(names = "--application-id", defaultValue = "spillway",
            description = "Kafka Streams application id; instances with the same id share the work (default: ${DEFAULT-VALUE}).")
    String applicationId;

    @Option(names = "--model-id", defaultValue = "spillway-model", description = "Model name in deltas, snapshots and metrics (default: ${DEFAULT-VALUE}).")
    String modelId;

    @Option(names = "--instance-id", description = "This instance's name (default: host name and process id).")
    String instanceId;

    @Option(names = "--state-dir", description = "Kafka Streams state directory (default: a folder under the system temp dir).")
    Path stateDir;

    @Option(names = "--events-topic", defaultValue = "events", description = "Input topic (default: ${DEFAULT-VALUE}).")
    String eventsTopic;

    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of topics created when missing (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--replication-factor", defaultValue = "-1", description = "Replication factor of created topics; -1 = broker default.")
    short replicationFactor;

    @Option(names = "--processing-guarantee", defaultValue = "exactly_once_v2",
            description = "exactly_once_v2 or at_least_once (default: ${DEFAULT-VALUE}).")
    String processingGuarantee;

    @Option(names = "--vocabulary", defaultValue = "16", description = "Number of event types (default: ${DEFAULT-VALUE}).")
    int vocabulary;

    @Option(names = "--features", defaultValue = "16", description = "Dimension of the sparse event features (default: ${DEFAULT-VALUE}).")
    int features;

    @Option(names = "--cell", defaultValue = LearnerConfig.DEFAULT_CELL,
            description = "Recurrent cell: egru (event-based GRU: gated, units emit graded events only above a "
                    + "threshold) or lif (spiking LIF) (default: ${DEFAULT-VALUE}).")
    String cell;

    @Option(names = "--activity-target", defaultValue = "" + LearnerConfig.DEFAULT_ACTIVITY_TARGET,
            description = "EGRU: fraction of units emitting per step that the activity regulariser holds each layer "
                    + "near (default: ${DEFAULT-VALUE}).")
    float activityTarget;

    @Option(names = "--activity-regularization", defaultValue = "" + LearnerConfig.DEFAULT_ACTIVITY_REGULARIZATION,
            description = "EGRU: strength of the activity regulariser, 0 = off (default: ${DEFAULT-VALUE}).")
    float activityRegularization;

    @Option(names = "--threshold-mean", defaultValue = "" + LearnerConfig.DEFAULT_THRESHOLD_MEAN,
            description = "EGRU: mean of the initial per-unit thresholds, in (0, 1) (default: ${DEFAULT-VALUE}).")
    float thresholdMean;

    @Option(names = "--readout", defaultValue = LearnerConfig.DEFAULT_READOUT,
            description = "EGRU: what the readout reads from every layer: cell (the dense cell states) or events "
                    + "(default: ${DEFAULT-VALUE}).")
    String readout;

    @Option(names = "--gradient-clip", description = "Global gradient norm the update is scaled down to; 0 = off "
            + "(default: " + LearnerConfig.DEFAULT_EGRU_GRADIENT_CLIP + " for egru, 0 for lif).")
    Float gradientClip;

    @Option(names = "--hidden-size", defaultValue = "128", description = "Units per recurrent layer (default: ${DEFAULT-VALUE}).")
    int hiddenSize;

    @Option(names = "--layers", defaultValue = "1", description = "Recurrent layers (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--optimizer",
            description = "Optimizer: mfac-sparse (EFCP), mfac, mfac-sparse-no-ef, ggt, ggt-sparse, adam or sgd, "
                    + "optionally with settings, e.g. mfac-sparse:m=64,lambda=0.3 or adam:decay=100 (default: the "
                    + "cell's, adam:decay=" + LearnerConfig.DEFAULT_EGRU_ADAM_DECAY_STEPS + " for egru, whose rate "
                    + "falls as 1/sqrt(1 + step/100); mfac-sparse for lif).")
    String optimizer;

    @Option(names = "--learning-rate", description = "Learning rate (default: the cell's and optimizer's: "
            + LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE + " for egru with adam, times sqrt(128/hidden) above "
            + "hidden 128; else the optimizer's: 0.05 for "
            + "mfac-sparse, 0.1 for the other M-FAC variants, 0.01 for Adam).")
    Float learningRate;

    @Option(names = "--backend", defaultValue = "auto", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device-memory", defaultValue = "512MiB", converter = ByteSize.class,
            description = "Device memory budget of the learner, e.g. 512MiB (default: ${DEFAULT-VALUE}).")
    long deviceMemory;

    @Option(names = "--checkpoint-schedule", defaultValue = "auto",
            description = "auto, bptt, uniform, remote or double (default: ${DEFAULT-VALUE}).")
    String checkpointSchedule;

    @Option(names = "--chunk-length", defaultValue = "64", description = "Events per chunk handed to the trainer (default: ${DEFAULT-VALUE}).")
    int chunkLength;

    @Option(names = "--max-chunk-wait", defaultValue = "PT2S",
            description = "A shorter chunk is trained after this long, ISO-8601 (default: ${DEFAULT-VALUE}).")
    Duration maxChunkWait;

    @Option(names = "--batch-keys", defaultValue = "16", description = "Chunks of distinct keys per training step (default: ${DEFAULT-VALUE}).")
    int batchKeys;

    @Option(names = "--batch-lookahead", defaultValue = "" + TrainerSettings.DEFAULT_BATCH_LOOKAHEAD,
            description = "Chunk-log entries a training step may pass over (chunks of keys it already has) to fill up with "
                    + "other keys' chunks handed over within --max-chunk-wait of its first; 0 closes a step at the first repeated "
                    + "key. Replicated training only (default: ${DEFAULT-VALUE}).")
    int batchLookahead;

    @Option(names = "--warm-up", defaultValue = "PT5S",
            description = "Before consuming, train a throwaway copy of the model on synthetic events this long, so the "
                    + "JIT has compiled the engine's kernels before the stream competes for the CPU; PT0S: none, "
                    + "ISO-8601 (default: ${DEFAULT-VALUE}).")
    Duration warmUp;

    @Option(names = "--snapshot-every", defaultValue = "200", description = "Publish a snapshot every N model versions; 0 = never (default: ${DEFAULT-VALUE}).")
    int snapshotEvery;

    @Option(names = "--allow-config-change",
            description = "Restore a snapshot made with other learner settings (learning rate, alpha, gain, ...) and "
                    + "train it on under these; without it such a snapshot stops the start, naming the settings. The "
                    + "model's shape, cell and optimizer can never change.")
    boolean allowConfigChange;

    @Option(names = "--scale-out", defaultValue = "replicate",
            description = "How instances with one application id share the training: replicate (each trains the whole "
                    + "chunk log; replicas agree bit for bit) or split (each trains its partitions and applies the "
                    + "others' deltas, compressed with error feedback) (default: ${DEFAULT-VALUE}).")
    String scaleOut;

    @Option(names = "--delta-density", defaultValue = "" + TrainerSettings.DEFAULT_DELTA_DENSITY,
            description = "Split training: fraction of each tensor's entries published per step; the rest is "
                    + "carried in the error-feedback residual (default: ${DEFAULT-VALUE}).")
    double deltaDensity;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the model's initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-event-time-ahead", defaultValue = "P1D",
            description = "Dead-letter an event whose timestampMs is further ahead of its record's timestamp than this (one "
                    + "far-future event time would order its key's later events out for good), and a record whose "
                    + "timestamp is further ahead of the wall clock, ISO-8601 (default: ${DEFAULT-VALUE}).")
    Duration maxEventTimeAhead;

    @Option(names = "--key-state-retention", defaultValue = "P7D",
            description = "Delete the bookkeeping of a key idle this long on the input's clock (its next event starts it "
                    + "afresh); PT0S keeps every key forever, ISO-8601 (default: ${DEFAULT-VALUE}).")
    Duration keyStateRetention;

    @Option(names = "--registry-wait-bytes", defaultValue = "256MiB", converter = ByteSize.class,
            description = "Records per stream task that may wait, in order and per key, while the schema registry is "
                    + "unreachable; past this they are dead-lettered as registry-unavailable (default: ${DEFAULT-VALUE}).")
    long registryWaitBytes;

    @Option(names = "--max-key-bytes", defaultValue = "" + InputGuards.DEFAULT_MAX_KEY_BYTES,
            description = "Dead-letter a record whose key (the entity id) is longer than this many bytes, before decoding "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxKeyBytes;

    @Option(names = "--key-format", defaultValue = "auto", converter = KeyFormatConverter.class,
            description = "Format of the input's record keys: auto (per record: Confluent-framed Avro, JSON, or text), "
                    + "text, avro or json (default: ${DEFAULT-VALUE}).")
    KeyFormat keyFormat;

    @Option(names = "--key-field", description = "Dotted path of the entity id in record keys that are Avro records or "
            + "JSON objects (default: their only field).")
    String keyField;

    @Option(names = "--output-key-format", defaultValue = "text", converter = KeyFormatConverter.class,
            description = "Keys of the output topics: text (UTF-8), or avro (a Confluent-framed Avro string, for clients "
                    + "that decode every key as Avro, e.g. Confluent's AvroConsumer) (default: ${DEFAULT-VALUE}).")
    KeyFormat outputKeyFormat;

    @Option(names = "--value-format", defaultValue = "auto", converter = ValueFormatConverter.class,
            description = "Format of the input's record values: auto (per record: Confluent-framed Avro, JSON, or "
                    + "Spillway's Event), event (Spillway's Event schema only), avro (any registered Avro schema) or json "
                    + "(plain, or Kafka Connect's schema/payload envelope) (default: ${DEFAULT-VALUE}). See "
                    + "docs/input-formats.md.")
    ValueFormat valueFormat;

    @Option(names = "--mapping", description = "Properties file saying where entity id, event time, event type, label "
            + "and features are in the input's own records (Avro of any schema, JSON); without it values are "
            + "Spillway's Event. See docs/input-formats.md.")
    Path mappingFile;

    /** Accepts the value formats in any case. */
    static final class ValueFormatConverter implements picocli.CommandLine.ITypeConverter<ValueFormat> {
        @Override
        public ValueFormat convert(final String value) {
            return ValueFormat.parse(value);
        }
    }

    /** The mapping file, read and checked (a bad one stops the start with its problem). */
    private io.spillway.app.mapping.FieldMapping mapping() {
        if (mappingFile == null) {
            return null;
        }
        if (valueFormat == ValueFormat.EVENT) {
            throw usageError("--mapping reads the input's own records: use --value-format auto, avro or json, not event",
                    null);
        }
        try {
            return io.spillway.app.mapping.FieldMapping.load(mappingFile);
        } catch (final IOException e) {
            throw usageError("cannot read --mapping " + mappingFile + ": " + e.getMessage(), e);
        } catch (final IllegalArgumentException e) {
            throw usageError(e.getMessage(), e);
        }
    }

    /** Accepts the formats in any case. */
    static final class KeyFormatConverter implements picocli.CommandLine.ITypeConverter<KeyFormat> {
        @Override
        public KeyFormat convert(final String value) {
            return KeyFormat.parse(value);
        }
    }

    @Option(names = "--ops-host", defaultValue = "127.0.0.1", description = "Interface of the metrics/dashboard endpoint (default: ${DEFAULT-VALUE}).")
    String opsHost;

    @Option(names = "--ops-port", defaultValue = "9404", description = "Port of the metrics/dashboard endpoint; 0 = any free, -1 = off (default: ${DEFAULT-VALUE}).")
    int opsPort;

    @Option(names = "--ops-auth-token-file", description = "File holding the token the metrics/dashboard endpoint requires "
            + "(Authorization: Bearer <token>, or basic auth with the token as password); /health and /ready stay open. "
            + "Or set " + OPS_TOKEN_KEY + " in --config.")
    Path opsAuthTokenFile;

    @Option(names = "--ops-allow-unauthenticated", arity = "0..1", fallbackValue = "true",
            description = "Serve the metrics/dashboard endpoint without authentication even when --ops-host is not a "
                    + "loopback address (without this or a token, such an endpoint refuses to start).")
    boolean opsAllowUnauthenticated;

    @Option(names = "--config", description = "Properties file of extra Kafka client/Streams settings (e.g. security.protocol, sasl.*, ssl.*); "
            + "keys starting with 'schema.registry.' or 'basic.auth.' go to the registry client, " + OPS_TOKEN_KEY
            + " is the operations endpoint's token.")
    Path configFile;

    /** The key in --config of the operations endpoint's token (kept out of the Kafka settings). */
    static final String OPS_TOKEN_KEY = "spillway.ops.auth.token";

    /** The command this mixin belongs to (null when built without picocli), for errors that print its usage. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    AppConfig toConfig(final String bootstrapServers, final String registryUrl) {
        final Map<String, Object> kafka = new HashMap<>();
        final Map<String, Object> registry = new HashMap<>();
        final Properties p = configProperties();
        String opsToken = null;
        for (final String key : p.stringPropertyNames()) {
            if (key.equals(OPS_TOKEN_KEY)) {
                opsToken = p.getProperty(key).strip();
            } else if (key.startsWith("schema.registry.") || key.startsWith("basic.auth.")) {
                registry.put(key, p.getProperty(key));
            } else {
                kafka.put(key, p.getProperty(key));
            }
        }
        final OpsAuth auth = opsAuth(opsToken);
        checkOpsExposure(auth);
        final LearnerConfig.Builder learnerBuilder = LearnerConfig.builder().vocabularySize(vocabulary)
                .featureDimension(features).hiddenSize(hiddenSize).layers(layers).optimizer(optimizer).backend(backend)
                .deviceMemoryBytes(deviceMemory).checkpointSchedule(checkpointSchedule).seed(seed).cell(cell);
        if (learningRate != null) {
            learnerBuilder.learningRate(learningRate);
        }
        learnerBuilder.activityTarget(activityTarget).activityRegularization(activityRegularization)
                .thresholdMean(thresholdMean).readout(readout);
        if (gradientClip != null) {
            learnerBuilder.gradientClip(gradientClip);
        }
        final LearnerConfig learner = learnerBuilder.build();
        final Topics defaults = Topics.defaults();
        final Topics topics = new Topics(eventsTopic, defaults.deadLetters(), defaults.deltas(), defaults.snapshots(),
                defaults.metrics(), defaults.predictions(), applicationId + "-" + defaults.chunks());
        final String instance = instanceId != null ? instanceId : hostName() + "-" + ProcessHandle.current().pid();
        final Path state = stateDir != null ? stateDir : Path.of(System.getProperty("java.io.tmpdir"), "spillway-state");
        final TrainerSettings trainer = new TrainerSettings(modelId, instance, batchKeys, snapshotEvery, 100_000,
                512 * 1024).withScaleOut(ScaleOut.parse(scaleOut), deltaDensity)
                .withBatchLookahead(batchLookahead, maxChunkWait.toMillis()).withWarmUp(warmUp)
                .withConfigChangeAllowed(allowConfigChange);
        return new AppConfig(bootstrapServers, registryUrl, applicationId, state, topics, partitions, replicationFactor,
                chunkLength, maxChunkWait, 64, processingGuarantee, learner, trainer,
                new EventLimits(vocabulary, features, 4096, 1 << 20), opsHost, opsPort, kafka, registry,
                new InputGuards(maxEventTimeAhead, keyStateRetention, registryWaitBytes, maxKeyBytes,
                        InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES),
                new io.spillway.app.Formats(keyFormat, keyField, outputKeyFormat, valueFormat, mapping()), auth);
    }

    /** The operations endpoint's authentication from --ops-auth-token-file, the --config token or the open choice. */
    private OpsAuth opsAuth(final String configToken) {
        if (opsAuthTokenFile != null && configToken != null) {
            throw usageError("the operations endpoint's token is given twice: by --ops-auth-token-file and by "
                    + OPS_TOKEN_KEY + " in --config; keep one", null);
        }
        if ((opsAuthTokenFile != null || configToken != null) && opsAllowUnauthenticated) {
            throw usageError("--ops-allow-unauthenticated contradicts the operations endpoint's token", null);
        }
        try {
            if (opsAuthTokenFile != null) {
                return OpsAuth.tokenFile(opsAuthTokenFile);
            }
            if (configToken != null) {
                return OpsAuth.token(configToken);
            }
        } catch (final IOException e) {
            throw usageError("cannot read --ops-auth-token-file " + opsAuthTokenFile + ": " + e.getMessage(), e);
        } catch (final IllegalArgumentException e) {
            throw usageError((opsAuthTokenFile != null ? "--ops-auth-token-file " : OPS_TOKEN_KEY + " in --config: ")
                    + e.getMessage(), e);
        }
        return opsAllowUnauthenticated ? OpsAuth.unauthenticatedAllowed() : OpsAuth.none();
    }

    /** A usage error of the command (exit code 2, no stack trace), or an IllegalArgumentException outside picocli. */
    private RuntimeException usageError(final String message, final Throwable cause) {
        return command == null ? new IllegalArgumentException(message, cause)
                : new CommandLine.ParameterException(command.commandLine(), message, cause);
    }

    /**
     * Fails (as a usage error) when the operations endpoint would listen beyond loopback without authentication and
     * an open endpoint was not chosen: call it before starting anything.
     */
    void checkOpsExposure() {
        final String token = configProperties().getProperty(OPS_TOKEN_KEY);
        checkOpsExposure(opsAuth(token == null ? null : token.strip()));
    }

    private void checkOpsExposure(final OpsAuth auth) {
        if (opsPort < 0) {
            return;
        }
        try {
            OpsServer.checkExposure(opsHost, auth);
        } catch (final IllegalStateException e) {
            throw usageError(e.getMessage(), e);
        }
    }

    /** The --config file's properties (none without one). */
    private Properties configProperties() {
        final Properties p = new Properties();
        if (configFile != null) {
            try (InputStream in = Files.newInputStream(configFile)) {
                p.load(in);
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read --config " + configFile + ": " + e.getMessage(), e);
            }
        }
        return p;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (final IOException e) {
            return "spillway";
        }
    }
}
