package io.spillway.app.config;

import static io.spillway.app.config.Setting.Group.ENGINE;
import static io.spillway.app.config.Setting.Group.INPUT;
import static io.spillway.app.config.Setting.Group.KAFKA;
import static io.spillway.app.config.Setting.Group.MODEL;
import static io.spillway.app.config.Setting.Group.OPERATIONS;
import static io.spillway.app.config.Setting.Group.TRAINING;
import static io.spillway.app.config.Setting.Importance.HIGH;
import static io.spillway.app.config.Setting.Importance.LOW;

import io.spillway.app.AppConfig;
import io.spillway.app.Formats;
import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.InputGuards;
import io.spillway.app.topology.KeyFormat;
import io.spillway.app.topology.Topics;
import io.spillway.app.topology.ValueFormat;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Every setting of the commands that train ({@code run}, {@code demo}) and of those that load their model
 * ({@code serve}, {@code follow}), each defined once: the CLI's options and {@code docs/configuration.md} are generated
 * from {@link #DEFINITION}, and {@link #configure} turns the parsed values into an {@link AppConfig}.
 */
public final class AppSettings {
    private static final List<Setting<?>> ALL = new ArrayList<>();

    // Kafka, topics and state

    public static final Setting<String> APPLICATION_ID = add(Setting.define("application-id", SettingType.STRING)
            .byDefault("spillway").validator(Validator.notBlank()).group(KAFKA).importance(HIGH)
            .doc("Kafka Streams application id; instances with the same id share the work (docs/scaling-out.md)"));
    public static final Setting<String> EVENTS_TOPIC = add(Setting.define("events-topic", SettingType.STRING)
            .byDefault("events").validator(Validator.notBlank()).group(KAFKA).importance(HIGH)
            .doc("Input topic; the output topics are listed in docs/topics.md"));
    public static final Setting<Integer> PARTITIONS = add(Setting.define("partitions", SettingType.INT)
            .byDefault("4").validator(Validator.atLeast(1)).group(KAFKA)
            .doc("Partitions of topics created when missing"));
    public static final Setting<Short> REPLICATION_FACTOR = add(Setting.define("replication-factor", SettingType.SHORT)
            .byDefault("-1").validator(Validator.exactly(-1).or(Validator.atLeast(1))).group(KAFKA)
            .doc("Replication factor of created topics; -1 = the broker's default"));
    public static final Setting<String> PROCESSING_GUARANTEE = add(Setting.define("processing-guarantee",
                    SettingType.oneOf(List.of("exactly_once_v2", "at_least_once")))
            .byDefault("exactly_once_v2").group(KAFKA)
            .doc("Kafka Streams' processing guarantee (docs/exactly-once.md)"));
    public static final Setting<Path> STATE_DIR = add(Setting.define("state-dir", SettingType.PATH)
            .computedDefault("spillway-state in the system temp dir").group(KAFKA)
            .doc("Kafka Streams state directory"));
    public static final Setting<Path> CONFIG = add(Setting.define("config", SettingType.PATH)
            .computedDefault("none").group(KAFKA)
            .doc("Properties file of extra Kafka client/Streams settings (e.g. security.protocol, sasl.*, ssl.*); keys "
                    + "starting with 'schema.registry.' or 'basic.auth.' go to the registry client, "
                    + "spillway.ops.auth.token is the operations endpoint's token"));

    // The model

    public static final Setting<String> MODEL_ID = add(Setting.define("model-id", SettingType.STRING)
            .byDefault("spillway-model").validator(Validator.notBlank()).group(MODEL).importance(HIGH)
            .doc("Model name in deltas, snapshots and metrics"));
    public static final Setting<Integer> VOCABULARY = add(Setting.define("vocabulary", SettingType.INT)
            .byDefault("16").validator(Validator.atLeast(1)).group(MODEL).importance(HIGH)
            .doc("Number of event types"));
    public static final Setting<Integer> FEATURES = add(Setting.define("features", SettingType.INT)
            .byDefault("16").validator(Validator.atLeast(0)).group(MODEL).importance(HIGH)
            .doc("Dimension of the sparse event features"));
    public static final Setting<String> CELL = add(Setting.define("cell", SettingType.oneOf(LearnerConfig.CELLS))
            .byDefault(LearnerConfig.DEFAULT_CELL).group(MODEL).importance(HIGH)
            .doc("Recurrent cell: egru (event-based GRU: gated, units emit graded events only above a threshold) or "
                    + "lif (spiking LIF); docs/learner.md"));
    public static final Setting<Integer> HIDDEN_SIZE = add(Setting.define("hidden-size", SettingType.INT)
            .byDefault("128").validator(Validator.atLeast(1)).group(MODEL).importance(HIGH)
            .doc("Units per recurrent layer"));
    public static final Setting<Integer> LAYERS = add(Setting.define("layers", SettingType.INT)
            .byDefault("1").validator(Validator.atLeast(1)).group(MODEL)
            .doc("Recurrent layers"));
    public static final Setting<String> OPTIMIZER = add(Setting.define("optimizer", SettingType.STRING)
            .computedDefault("the cell's: adam:decay=" + LearnerConfig.DEFAULT_EGRU_ADAM_DECAY_STEPS
                    + " for egru, mfac-sparse for lif").validator(Validator.notBlank()).group(MODEL)
            .doc("Optimizer: mfac-sparse (EFCP), mfac, mfac-sparse-no-ef, ggt, ggt-sparse, adam or sgd, optionally "
                    + "with settings, e.g. mfac-sparse:m=64,lambda=0.3 or adam:decay=100 (egru's adam:decay=100 makes "
                    + "the rate fall as 1/sqrt(1 + step/100)); docs/learner.md, docs/learner-lif.md"));
    public static final Setting<Float> LEARNING_RATE = add(Setting.define("learning-rate", SettingType.FLOAT)
            .computedDefault("the cell's and optimizer's: " + LearnerConfig.DEFAULT_EGRU_ADAM_LEARNING_RATE
                    + " for egru with adam; else the optimizer's: 0.05 for "
                    + "mfac-sparse, 0.1 for the other M-FAC variants, 0.01 for Adam")
            .validator(Validator.positive()).group(MODEL)
            .doc("Learning rate; with Adam an egru wider than 128 learns its matrices that read hidden units at this "
                    + "rate times (128/hidden)^(2/3) and its other parameters at this rate times (hidden/128)^(1/3) "
                    + "(after muP, docs/learner.md)"));
    public static final Setting<Float> GRADIENT_CLIP = add(Setting.define("gradient-clip", SettingType.FLOAT)
            .computedDefault(LearnerConfig.DEFAULT_EGRU_GRADIENT_CLIP + " for egru, 0 for lif")
            .validator(Validator.atLeast(0.0)).group(MODEL)
            .doc("Global gradient norm the update is scaled down to; 0 = off"));
    public static final Setting<Float> ACTIVITY_TARGET = add(Setting.define("activity-target", SettingType.FLOAT)
            .byDefault("" + LearnerConfig.DEFAULT_ACTIVITY_TARGET).validator(Validator.within(0, 1)).group(MODEL)
            .doc("EGRU: fraction of units emitting per step that the activity regulariser holds each layer near"));
    public static final Setting<Float> ACTIVITY_REGULARIZATION = add(Setting.define("activity-regularization",
                    SettingType.FLOAT)
            .byDefault("" + LearnerConfig.DEFAULT_ACTIVITY_REGULARIZATION).validator(Validator.atLeast(0.0))
            .group(MODEL).doc("EGRU: strength of the activity regulariser, 0 = off"));
    public static final Setting<Float> THRESHOLD_MEAN = add(Setting.define("threshold-mean", SettingType.FLOAT)
            .byDefault("" + LearnerConfig.DEFAULT_THRESHOLD_MEAN).validator(Validator.strictlyBetween(0, 1))
            .group(MODEL).doc("EGRU: mean of the initial per-unit thresholds"));
    public static final Setting<String> READOUT = add(Setting.define("readout",
                    SettingType.oneOf(LearnerConfig.READOUTS))
            .byDefault(LearnerConfig.DEFAULT_READOUT).group(MODEL)
            .doc("EGRU: what the readout reads from every layer: cell (the dense cell states) or events"));
    public static final Setting<String> MIXTURE = add(Setting.define("mixture", SettingType.STRING)
            .byDefault(io.spillway.engine.mixture.MixtureSpec.DEFAULT).validator(Validator.notBlank()).group(MODEL)
            .doc("What the published predictions mix the network's with: context (an adaptive order-6 context model"
                    + " of the event types, counts shared by the keys; settings as in"
                    + " context:order=6,pairs=2097152,rate=0.02) or none; the network trains the same either way"
                    + " (docs/learner.md)"));
    public static final Setting<Long> SEED = add(Setting.define("seed", SettingType.LONG)
            .byDefault("42").group(MODEL).doc("Seed of the model's initialisation"));

    // The engine

    public static final Setting<String> BACKEND = add(Setting.define("backend",
                    SettingType.oneOf(List.of("cpu", "cuda", "auto")))
            .byDefault("auto").group(ENGINE)
            .doc("Where the learner computes: cpu, cuda, or auto (CUDA when a usable GPU is found; logged); "
                    + "docs/gpu.md"));
    public static final Setting<Long> DEVICE_MEMORY = add(Setting.define("device-memory", SettingType.BYTES)
            .byDefault("512MiB").validator(Validator.atLeast(1)).group(ENGINE)
            .doc("Device memory budget of the learner (docs/learner-lif.md)"));
    public static final Setting<String> CHECKPOINT_SCHEDULE = add(Setting.define("checkpoint-schedule",
                    SettingType.oneOf(List.of("auto", "bptt", "uniform", "remote", "double")))
            .byDefault("auto").group(ENGINE)
            .doc("How backpropagation through a chunk keeps its activations within --device-memory; "
                    + "docs/learner-lif.md"));

    // Training

    public static final Setting<Integer> CHUNK_LENGTH = add(Setting.define("chunk-length", SettingType.INT)
            .byDefault("64").validator(Validator.atLeast(1)).group(TRAINING).importance(HIGH)
            .doc("Events per chunk handed to the trainer"));
    public static final Setting<Duration> MAX_CHUNK_WAIT = add(Setting.define("max-chunk-wait", SettingType.DURATION)
            .byDefault("PT2S").validator(Validator.notNegative()).group(TRAINING)
            .doc("A key's shorter chunk is handed over after this long (wall clock), and the trainer trains the batch "
                    + "it has open; while the app catches up on a backlog the wait also runs on the input's record "
                    + "timestamps (the key's next events are already in the topic), for at most 10 waits"));
    public static final Setting<Integer> BATCH_KEYS = add(Setting.define("batch-keys", SettingType.INT)
            .byDefault("16").validator(Validator.atLeast(1)).group(TRAINING).importance(HIGH)
            .doc("Chunks of distinct keys per training step"));
    public static final Setting<Integer> BATCH_LOOKAHEAD = add(Setting.define("batch-lookahead", SettingType.INT)
            .byDefault("" + TrainerSettings.DEFAULT_BATCH_LOOKAHEAD).validator(Validator.atLeast(0)).group(TRAINING)
            .doc("Chunk-log entries a training step may pass over (chunks of keys it already has) to fill up with "
                    + "other keys' chunks handed over within --max-chunk-wait of its first; 0 closes a step at the "
                    + "first repeated key. Replicated training only"));
    public static final Setting<Duration> WARM_UP = add(Setting.define("warm-up", SettingType.DURATION)
            .byDefault("PT5S").validator(Validator.notNegative()).group(TRAINING)
            .doc("Before consuming, train a throwaway copy of the model on synthetic events this long, so the JIT has "
                    + "compiled the engine's kernels before the stream competes for the CPU; PT0S: none"));
    public static final Setting<Integer> SNAPSHOT_EVERY = add(Setting.define("snapshot-every", SettingType.INT)
            .byDefault("200").validator(Validator.atLeast(0)).group(TRAINING)
            .doc("Publish a snapshot every N model versions (split training: every N steps of the owner of chunk-log "
                    + "partition 0); 0 = never"));
    public static final Setting<Boolean> ALLOW_CONFIG_CHANGE = add(Setting.define("allow-config-change",
                    SettingType.BOOLEAN)
            .byDefault("false").group(TRAINING).importance(LOW)
            .doc("Restore a snapshot made with other learner settings (learning rate, alpha, gain, ...) and train it "
                    + "on under these, with a warning naming them; without it such a snapshot stops the start, naming "
                    + "the settings. The model's shape, cell and optimizer can never change "
                    + "(docs/formats.md#provenance-the-learner-settings-a-snapshot-was-made-with)"));
    public static final Setting<String> SCALE_OUT = add(Setting.define("scale-out",
                    SettingType.oneOf(List.of("replicate", "split")))
            .byDefault("replicate").group(TRAINING)
            .doc("How instances with one application id share the training: replicate (each trains the whole chunk "
                    + "log; replicas agree bit for bit) or split (each trains its partitions and applies the others' "
                    + "deltas, compressed with error feedback); docs/scaling-out.md"));
    public static final Setting<Double> DELTA_DENSITY = add(Setting.define("delta-density", SettingType.DOUBLE)
            .byDefault("" + TrainerSettings.DEFAULT_DELTA_DENSITY).validator(Validator.aboveAtMost(0, 1))
            .group(TRAINING)
            .doc("Split training: fraction of each tensor's entries published per step; the rest is carried in the "
                    + "error-feedback residual"));
    public static final Setting<String> INSTANCE_ID = add(Setting.define("instance-id", SettingType.STRING)
            .computedDefault("host name and process id").validator(Validator.notBlank()).group(TRAINING)
            .doc("This instance's name (split training's transactional id is made from it)"));

    // Input formats and guards

    public static final Setting<KeyFormat> KEY_FORMAT = add(Setting.define("key-format",
                    SettingType.oneOf(KeyFormat.class))
            .byDefault("auto").group(INPUT)
            .doc("Format of the input's record keys: auto (per record: Confluent-framed Avro when it starts with the "
                    + "magic byte, JSON when it parses as a JSON string or object, text otherwise), text, avro or json; "
                    + "a key no accepted format reads is dead-lettered as invalid-key (docs/input-formats.md)"));
    public static final Setting<String> KEY_FIELD = add(Setting.define("key-field", SettingType.STRING)
            .computedDefault("their only field").validator(Validator.notBlank()).group(INPUT)
            .doc("Dotted path of the entity id in record keys that are Avro records or JSON objects (Debezium, "
                    + "ksqlDB KEY_FORMAT='AVRO', Kafka Connect's {schema, payload})"));
    public static final Setting<KeyFormat> OUTPUT_KEY_FORMAT = add(Setting.define("output-key-format",
                    SettingType.oneOf(KeyFormat.class, KeyFormat.TEXT, KeyFormat.AVRO))
            .byDefault("text").group(INPUT)
            .doc("Keys of the output topics: text (UTF-8), or avro (a Confluent-framed Avro string, for clients that "
                    + "decode every key as Avro, e.g. Confluent's AvroConsumer; its schema is registered under "
                    + "<topic>-key)"));
    public static final Setting<ValueFormat> VALUE_FORMAT = add(Setting.define("value-format",
                    SettingType.oneOf(ValueFormat.class))
            .byDefault("auto").group(INPUT).importance(HIGH)
            .doc("Format of the input's record values: auto (per record: Confluent-framed Avro of any registered "
                    + "schema, JSON objects plain or in Kafka Connect's schema/payload envelope, else Spillway's "
                    + "Event), event (Spillway's Event schema only), avro (any registered Avro schema) or json (plain, "
                    + "or Kafka Connect's envelope); what is read and what is refused with which reason: "
                    + "docs/input-formats.md"));
    public static final Setting<Path> MAPPING = add(Setting.define("mapping", SettingType.PATH)
            .computedDefault("none: values are Spillway's Event").group(INPUT).importance(HIGH)
            .doc("Properties file saying where entity id, event time, event type, label and features are in the "
                    + "input's own records (Avro of any schema, JSON); docs/input-formats.md"));
    public static final Setting<Duration> MAX_EVENT_TIME_AHEAD = add(Setting.define("max-event-time-ahead",
                    SettingType.DURATION)
            .byDefault("P1D").validator(Validator.notNegative()).group(INPUT).importance(LOW)
            .doc("Dead-letter an event whose timestampMs is further ahead of its record's timestamp than this (one "
                    + "far-future event time would order its key's later events out for good), and a record whose "
                    + "timestamp is further ahead of the wall clock"));
    public static final Setting<Duration> KEY_STATE_RETENTION = add(Setting.define("key-state-retention",
                    SettingType.DURATION)
            .byDefault("P7D").validator(Validator.notNegative()).group(INPUT).importance(LOW)
            .doc("Delete the bookkeeping of a key idle this long on the input's clock (its next event starts it "
                    + "afresh); PT0S keeps every key forever"));
    public static final Setting<Long> REGISTRY_WAIT_BYTES = add(Setting.define("registry-wait-bytes",
                    SettingType.BYTES)
            .byDefault("256MiB").group(INPUT).importance(LOW)
            .doc("Records per stream task that may wait, in order and per key, while the schema registry is "
                    + "unreachable; past this they are dead-lettered as registry-unavailable"));
    public static final Setting<Integer> MAX_KEY_BYTES = add(Setting.define("max-key-bytes", SettingType.INT)
            .byDefault("" + InputGuards.DEFAULT_MAX_KEY_BYTES).validator(Validator.atLeast(1)).group(INPUT)
            .importance(LOW)
            .doc("Dead-letter a record whose key (the entity id) is longer than this many bytes, before decoding "
                    + "(oversized-key): an entity id is copied into every output and store entry of its key"));

    // The operations endpoint

    public static final Setting<String> OPS_HOST = add(Setting.define("ops-host", SettingType.STRING)
            .byDefault("127.0.0.1").validator(Validator.notBlank()).group(OPERATIONS).importance(HIGH)
            .doc("Interface of the metrics, health and dashboard endpoint; beyond loopback it needs --ops-auth-token-file or "
                    + "--ops-allow-unauthenticated (docs/security.md)"));
    public static final Setting<Integer> OPS_PORT = add(Setting.define("ops-port", SettingType.INT)
            .byDefault("9404").validator(Validator.between(-1, 65535)).group(OPERATIONS).importance(HIGH)
            .doc("Port of the metrics, health and dashboard endpoint; 0 = any free, -1 = off"));
    public static final Setting<Path> OPS_AUTH_TOKEN_FILE = add(Setting.define("ops-auth-token-file",
                    SettingType.PATH)
            .computedDefault("none").group(OPERATIONS)
            .doc("File holding the token the metrics/dashboard endpoint requires (Authorization: Bearer <token>, or "
                    + "basic auth with the token as password); /health and /ready stay open. Or set "
                    + "spillway.ops.auth.token in --config"));
    public static final Setting<Boolean> OPS_ALLOW_UNAUTHENTICATED = add(Setting.define("ops-allow-unauthenticated",
                    SettingType.BOOLEAN)
            .byDefault("false").group(OPERATIONS).importance(LOW)
            .doc("Serve the metrics/dashboard endpoint without authentication even when --ops-host is not a loopback "
                    + "address (without this or a token, such an endpoint refuses to start)"));

    /** Every setting above, in this order. */
    public static final SettingSet DEFINITION = new SettingSet(ALL);

    private AppSettings() {
    }

    private static <T> Setting<T> add(final Setting.Builder<T> builder) {
        final Setting<T> s = builder.build();
        ALL.add(s);
        return s;
    }

    /**
     * A configuration builder holding everything these settings say. Still to set: the cluster and registry, the
     * client overrides and the operations endpoint's authentication (from {@link #CONFIG} and
     * {@link #OPS_AUTH_TOKEN_FILE}), and the field mapping (from the {@link #MAPPING} file): those are read from files.
     */
    public static AppConfig.Builder configure(final ParsedSettings s) {
        final LearnerConfig.Builder learner = LearnerConfig.builder().vocabularySize(s.get(VOCABULARY))
                .featureDimension(s.get(FEATURES)).hiddenSize(s.get(HIDDEN_SIZE)).layers(s.get(LAYERS))
                .optimizer(s.get(OPTIMIZER)).backend(s.get(BACKEND)).deviceMemoryBytes(s.get(DEVICE_MEMORY))
                .checkpointSchedule(s.get(CHECKPOINT_SCHEDULE)).seed(s.get(SEED)).cell(s.get(CELL))
                .activityTarget(s.get(ACTIVITY_TARGET)).activityRegularization(s.get(ACTIVITY_REGULARIZATION))
                .thresholdMean(s.get(THRESHOLD_MEAN)).readout(s.get(READOUT)).mixture(s.get(MIXTURE));
        if (s.get(LEARNING_RATE) != null) {
            learner.learningRate(s.get(LEARNING_RATE));
        }
        if (s.get(GRADIENT_CLIP) != null) {
            learner.gradientClip(s.get(GRADIENT_CLIP));
        }
        final String applicationId = s.get(APPLICATION_ID);
        final Topics defaults = Topics.defaults();
        final Topics topics = new Topics(s.get(EVENTS_TOPIC), defaults.deadLetters(), defaults.deltas(),
                defaults.snapshots(), defaults.metrics(), defaults.predictions(),
                applicationId + "-" + defaults.chunks());
        final String instance = s.get(INSTANCE_ID) != null ? s.get(INSTANCE_ID)
                : hostName() + "-" + ProcessHandle.current().pid();
        final Path state = s.get(STATE_DIR) != null ? s.get(STATE_DIR)
                : Path.of(System.getProperty("java.io.tmpdir"), "spillway-state");
        final TrainerSettings trainer = TrainerSettings.defaults(s.get(MODEL_ID), instance)
                .withBatchKeys(s.get(BATCH_KEYS)).withSnapshotEvery(s.get(SNAPSHOT_EVERY))
                .withScaleOut(ScaleOut.parse(s.get(SCALE_OUT)), s.get(DELTA_DENSITY))
                .withBatchLookahead(s.get(BATCH_LOOKAHEAD), s.get(MAX_CHUNK_WAIT).toMillis())
                .withWarmUp(s.get(WARM_UP)).withConfigChangeAllowed(s.get(ALLOW_CONFIG_CHANGE));
        return AppConfig.builder().applicationId(applicationId).stateDir(state).topics(topics)
                .partitions(s.get(PARTITIONS)).replicationFactor(s.get(REPLICATION_FACTOR))
                .chunkLength(s.get(CHUNK_LENGTH)).maxChunkWait(s.get(MAX_CHUNK_WAIT))
                .processingGuarantee(s.get(PROCESSING_GUARANTEE)).learner(learner.build()).trainer(trainer)
                .limits(new EventLimits(s.get(VOCABULARY), s.get(FEATURES), 4096, 1 << 20))
                .opsHost(s.get(OPS_HOST)).opsPort(s.get(OPS_PORT))
                .guards(new InputGuards(s.get(MAX_EVENT_TIME_AHEAD), s.get(KEY_STATE_RETENTION),
                        s.get(REGISTRY_WAIT_BYTES), s.get(MAX_KEY_BYTES), InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES))
                .formats(formats(s, null));
    }

    /** The formats these settings say, with the field mapping read from the {@link #MAPPING} file (null: none). */
    public static Formats formats(final ParsedSettings s, final FieldMapping mapping) {
        return new Formats(s.get(KEY_FORMAT), s.get(KEY_FIELD), s.get(OUTPUT_KEY_FORMAT), s.get(VALUE_FORMAT), mapping);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (final IOException e) {
            return "spillway";
        }
    }
}
