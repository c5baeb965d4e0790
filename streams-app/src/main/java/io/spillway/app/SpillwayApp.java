package io.spillway.app;

import io.spillway.app.ops.Health;
import io.spillway.app.ops.Liveness;
import io.spillway.app.ops.OpsMetrics;
import io.spillway.app.ops.OpsServer;
import io.spillway.app.ops.OpsSettings;
import io.spillway.app.topology.DeadLetterProductionHandler;
import io.spillway.app.topology.InputGuards;
import io.spillway.app.topology.PipelineCounters;
import io.spillway.app.topology.SpillwayTopology;
import io.spillway.app.trainer.KafkaChunkGroup;
import io.spillway.app.trainer.KafkaChunkLog;
import io.spillway.app.trainer.KafkaTrainingSink;
import io.spillway.app.trainer.SnapshotReader;
import io.spillway.app.trainer.SnapshotRefusal;
import io.spillway.app.trainer.SnapshotRestore;
import io.spillway.app.trainer.TrainerCheckpoint;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.SplitTrainerLoop;
import io.spillway.app.trainer.Trainer;
import io.spillway.app.trainer.TrainerContext;
import io.spillway.app.trainer.TrainerLoop;
import io.spillway.app.trainer.TrainingSink;
import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.app.scaleout.SplitCheckpoint;
import io.spillway.engine.Learner;
import io.spillway.engine.Learners;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running application: the Kafka Streams topology writing completed chunks to the internal chunk topic,
 * the trainer thread reading that topic as a log, the producer that publishes what it learns, and the
 * operations endpoint. Start with {@link #start}: it restores the newest complete snapshot and resumes the
 * chunk log at the offset the snapshot records. {@link #close()} stops consuming, lets the trainer finish its
 * step and publish a snapshot, flushes and frees everything.
 */
public final class SpillwayApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpillwayApp.class);
    /** Largest chunk record (a chunk of very long T is one record): 64 MiB. */
    static final int CHUNK_RECORD_LIMIT = 64 << 20;
    /** Split training publishes its error-feedback residual once its share of the chunk log is quiet this long. */
    static final Duration SPLIT_FLUSH_AFTER_IDLE = Duration.ofSeconds(1);
    /** The stream thread's fetch size per input partition (a record batch larger than this still comes whole). */
    static final int MAIN_FETCH_BYTES = 16 << 10;
    /** The topology's commit interval under exactly_once_v2 (at_least_once keeps Streams' 30 s). */
    static final int EXACTLY_ONCE_COMMIT_MS = 500;
    /** A dead-letter topic the app creates takes records this much larger than the input's (for the reason headers). */
    static final int DEAD_LETTER_HEADROOM_BYTES = 64 << 10;

    private final AppConfig config;
    private final OpsMetrics ops;
    private final OpsServer opsServer;
    private final PipelineCounters counters;
    /** The one-partition chunk log of replicated training; null in split training. */
    private final KafkaChunkLog chunkLog;
    private final TrainerLoop.Resume resumedFrom;
    private final Learner learner;
    private final KafkaTrainingSink sink;
    private final Trainer trainer;
    private final Thread trainerThread;
    private final KafkaStreams streams;
    private final io.spillway.app.ops.BrokerWatch brokerWatch;
    private final Liveness liveness;
    /**
     * The one-partition topic a dictionary mapping's input of several partitions goes through to its one chunking
     * task ({@link io.spillway.app.topology.DictionarySequence}); null when the input is chunked where it is read.
     */
    private final String dictionarySequence;
    /** Deletes what the chunking task has committed of the dictionary sequence; null without one. */
    private final DictionarySequencePurge sequencePurge;
    /** The published dictionary, read to put categories beside the ids in predictions; null without one. */
    private final io.spillway.app.vocabulary.VocabularyReader vocabulary;
    /** Set once {@link #close()} begins: the client and the trainer then stop on request, which is no failure. */
    private volatile boolean closing;
    private static final long LAG_REFRESH_NANOS = Duration.ofMillis(200).toNanos();
    /** What restoring from snapshots refused (read by the metrics). */
    private final List<SnapshotRefusal> snapshotRefusals = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The last read of the consumer's lag per input partition. */
    private volatile PartitionLags partitionLags;

    private SpillwayApp(final AppConfig config) throws IOException {
        this.config = config;
        this.ops = new OpsMetrics();
        this.counters = new PipelineCounters(ops::deadLettered);
        final TopicSetup topicSetup = createTopics();
        final InputGuards guards = topicSetup.guards();
        this.dictionarySequence = topicSetup.dictionarySequence();
        ops.bindPipeline(counters);
        this.learner = Learners.create(config.learner());
        this.vocabulary = usesDictionary() ? new io.spillway.app.vocabulary.VocabularyReader(clientConfig(),
                io.spillway.app.vocabulary.VocabularyTopic.name(config.applicationId()),
                config.limits().vocabularySize()) : null;
        final Map<String, Object> serde = new HashMap<>(config.registryOverrides());
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, config.schemaRegistryUrl());
        final Training training = config.trainer().scaleOut() == ScaleOut.SPLIT ? splitTraining(serde)
                : replicatedTraining(serde);
        this.trainer = training.trainer();
        this.sink = training.sink();
        this.resumedFrom = training.resumedFrom();
        this.chunkLog = training.chunkLog();
        ops.bindPublishingRegistryWaits(sink::registryWaits);
        LOG.info("Learner: {}; training {}", learner.describe(), training.description());
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.processingGuarantee());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.replicationFactor());
        props.put("processing.exception.handler.global.enabled", true);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProductionHandler.class);
        props.put(DeadLetterProductionHandler.DEAD_LETTER_TOPIC_CONFIG, config.topics().deadLetters());
        props.put(StreamsConfig.producerPrefix(org.apache.kafka.clients.producer.ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
                CHUNK_RECORD_LIMIT);
        // Small fetches per input partition, so that each poll hands the stream thread records of every
        // partition and it interleaves them finely: while catching up on a backlog, the default 1 MiB per
        // partition made it work through one partition (a few keys) at a time, so consecutive chunks in the log
        // came from a few keys, and the trainer's batches closed at a repeated key with ~4 chunks, not --batch-keys.
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), MAIN_FETCH_BYTES);
        if (StreamsConfig.EXACTLY_ONCE_V2.equals(config.processingGuarantee())) {
            // Streams commits every 100 ms under exactly-once. Every 500 ms the store caches absorb most open-chunk
            // writes (an event buffered and handed over within one commit never reaches RocksDB or the changelog)
            // and there are 5x fewer transactions; the trainer sees a complete chunk up to 500 ms later.
            props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, EXACTLY_ONCE_COMMIT_MS);
        }
        props.putAll(config.kafkaOverrides());
        // The topology retries a record whose schema the registry cannot give from a punctuator (it waits, the
        // stream thread goes on): retries inside the client would only hold up every other key.
        final Map<String, Object> topologySerde = new HashMap<>(serde);
        topologySerde.putIfAbsent(io.spillway.schemas.registry.SchemaRegistryClientConfig.MAX_RETRIES, 0);
        this.streams = new KafkaStreams(SpillwayTopology.build(config.topics(), () -> {
            final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
            d.configure(topologySerde, false);
            return d;
        }, new io.spillway.app.topology.KeyFormats(config.formats().inputKeys(), config.formats().inputKeyField(), () -> {
            final io.spillway.schemas.serde.GenericAvroDeserializer d = new io.spillway.schemas.serde.GenericAvroDeserializer();
            d.configure(topologySerde, true);
            return d;
        }), new io.spillway.app.topology.ValueFormats(config.formats().inputValues(), config.formats().mapping(), () -> {
            final io.spillway.schemas.serde.GenericAvroDeserializer d = new io.spillway.schemas.serde.GenericAvroDeserializer();
            d.configure(topologySerde, false);
            return d;
        }), config.limits(), counters, config.chunkLength(), config.maxChunkWait(), guards,
                // the one chunking task of a dictionary sequence has all the input still to come ahead of it
                dictionarySequence != null ? partition -> consumerLag() : this::inputLag,
                // one chunk-log partition (replicated training) is fed by all of this instance's tasks; the one
                // chunking task of a dictionary sequence feeds every chunk-log partition
                dictionarySequence != null
                        || config.trainer().scaleOut().chunkPartitions(config.partitions()) == 1
                        ? partition -> consumerLag() : this::inputLag, dictionarySequence, topicSetup.chunkLogPartitions()),
                props);
        ops.bindKafkaStreams(streams);
        ops.bindSnapshotRefusals(snapshotRefusals::size);
        this.trainerThread = new Thread(trainer, "spillway-trainer");
        this.sequencePurge = dictionarySequence == null ? null : new DictionarySequencePurge(clientConfig(),
                config.applicationId(), dictionarySequence, Duration.ofMillis(Long.parseLong(String.valueOf(
                        config.kafkaOverrides().getOrDefault(DictionarySequencePurge.INTERVAL_CONFIG,
                                DictionarySequencePurge.DEFAULT_INTERVAL_MS)))));
        this.brokerWatch = io.spillway.app.ops.BrokerWatch.start(clientConfig(), config.bootstrapServers(),
                Duration.ofSeconds(2));
        this.liveness = new Liveness(streams::state, trainerThread, trainer::failure, () -> closing);
        ops.bindLiveness(liveness);
        this.opsServer = config.opsPort() < 0 ? null : OpsServer.start(
                OpsSettings.of(config.opsHost(), config.opsPort(), config.opsAuth()), ops,
                () -> streams.state() == KafkaStreams.State.RUNNING && trainerThread.isAlive(), liveness::check);
    }

    /**
     * The trainer of one way of sharing the training and what it was built with.
     *
     * @param chunkLog the one-partition chunk log of replicated training, closed with the app; null in split
     *        training (its loop owns and closes its share of the log)
     */
    private record Training(Trainer trainer, KafkaTrainingSink sink, TrainerLoop.Resume resumedFrom,
                            KafkaChunkLog chunkLog, String description) {
    }

    private TrainerContext trainerContext(final TrainingSink out) {
        return new TrainerContext(learner, out, config.topics(), config.trainer(), ops::record, this::consumerLag,
                counters::deadLettered, vocabulary == null ? io.spillway.app.trainer.CategoryNames.NONE : vocabulary::categories);
    }

    private boolean usesDictionary() {
        return config.formats().mapping() != null && config.formats().mapping().usesDictionary();
    }

    /** Replicated training: the newest snapshot, and the one-partition chunk log after it. */
    private Training replicatedTraining(final Map<String, Object> serde) throws IOException {
        final TrainerLoop.Resume resume = restore();
        final KafkaChunkLog log = new KafkaChunkLog(clientConfig(), config.topics().chunks(),
                resume.snapshotVersion() < 0 ? -1 : resume.chunkOffset(), config.queueCapacity());
        final KafkaTrainingSink out = new KafkaTrainingSink(clientConfig(), serde,
                config.formats().outputKeys() == io.spillway.app.topology.KeyFormat.AVRO);
        final TrainerLoop loop = new TrainerLoop(trainerContext(out), log, resume, () -> {
            try {
                return restore();
            } catch (final IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return new Training(loop, out, resume, log, "replicated on every instance");
    }

    /**
     * Split training: the model is its newest snapshot (or the initial weights) plus the delta log after it; this
     * instance trains the chunk-log partitions its group assigns it, in transactions.
     */
    private Training splitTraining(final Map<String, Object> serde) throws IOException {
        final String incarnation = config.trainer().instanceId() + "@" + System.currentTimeMillis();
        final SnapshotRestore.Outcome<SplitCheckpoint> restored = restoreNewest(
                SnapshotRestore.split(learner, config.topics().deltas(), config.trainer().allowConfigChange()),
                "split training needs a model of its own"
                        + " (use a new --model-id)");
        final SplitCheckpoint checkpoint = restored.value();
        if (checkpoint != null) {
            LOG.info("Restored model {} from its split snapshot at delta-log positions {}",
                    config.trainer().modelId(), checkpoint.positions());
        }
        final Map<String, float[]> logWeights = checkpoint == null ? learner.parameters() : checkpoint.weights();
        final PeerDeltas peers = new PeerDeltas(clientConfig(), serde, config.topics().deltas(),
                config.trainer().modelId(), incarnation, checkpoint == null ? Map.of() : checkpoint.positions(),
                logWeights);
        final TrainerLoop.Resume resume = checkpoint == null ? TrainerLoop.Resume.FRESH
                : new TrainerLoop.Resume(0, new long[0], 0, checkpoint.logVersion(),
                        restored.snapshot().get().chunkCount(), restored.olderVersions());
        final KafkaChunkGroup group = new KafkaChunkGroup(clientConfig(), config.topics().chunks(),
                config.applicationId() + "-trainers", incarnation, config.queueCapacity());
        final KafkaTrainingSink out = KafkaTrainingSink.transactional(clientConfig(), serde,
                config.applicationId() + "-trainer-" + config.trainer().instanceId(), group,
                config.formats().outputKeys() == io.spillway.app.topology.KeyFormat.AVRO);
        final SplitTrainerLoop loop = new SplitTrainerLoop(trainerContext(out), group, peers, incarnation,
                SPLIT_FLUSH_AFTER_IDLE, resume);
        ops.bindSplitTraining(loop::peerDeltasApplied, loop::residualFlushes, () -> loop.ownedPartitions().size());
        return new Training(loop, out, resume, null, "split across instances (deltas with error feedback at density "
                + config.trainer().deltaDensity() + ")");
    }

    /** Creates missing topics, builds everything and starts consuming. */
    public static SpillwayApp start(final AppConfig config) throws IOException {
        if (config.opsPort() >= 0) {
            OpsServer.checkExposure(config.opsHost(), config.opsAuth()); // before anything is built
        }
        if (config.trainer().warmUpMs() > 0) {
            // before the app's own learner exists: on a device, the two would share its memory
            final Learners.WarmUp w = Learners.warmUp(config.learner(), config.chunkLength(),
                    config.trainer().batchKeys(), Duration.ofMillis(config.trainer().warmUpMs()));
            LOG.info("Warmed up the engine: {} steps, {} synthetic events in {} ms", w.steps(), w.events(),
                    w.took().toMillis());
        }
        final SpillwayApp app = new SpillwayApp(config);
        app.trainerThread.start();
        app.streams.setUncaughtExceptionHandler(e -> {
            LOG.error("Stream thread failed: {}", e.toString(), e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                    .SHUTDOWN_CLIENT;
        });
        app.streams.start();
        LOG.info("Spillway started: application {} reading '{}' on {}", config.applicationId(),
                config.topics().events(), config.bootstrapServers());
        return app;
    }

    /**
     * Continues from the newest snapshot of this model that can be restored, if the snapshots topic has one (see
     * {@link SnapshotRestore}): its learner state, and the chunk-log offset up to which that state has trained.
     */
    private TrainerLoop.Resume restore() throws IOException {
        final SnapshotRestore.Outcome<TrainerCheckpoint> restored = restoreNewest(
                SnapshotRestore.replicated(learner, config.topics().chunks(), config.trainer().allowConfigChange()),
                "replicated training cannot resume it (a"
                        + " model trained split, or one whose snapshots lack the chunk-log offset); use a new --model-id");
        if (restored.snapshot().isEmpty()) {
            return TrainerLoop.Resume.FRESH;
        }
        final SnapshotReader.Snapshot s = restored.snapshot().get();
        final TrainerCheckpoint checkpoint = restored.value();
        LOG.info("Restored model {} at version {} from its snapshot; resuming {} at offset {}", config.trainer().modelId(),
                s.version(), checkpoint.chunkTopic(), checkpoint.chunkOffset());
        return new TrainerLoop.Resume(checkpoint.chunkOffset(), checkpoint.trainedAhead(), checkpoint.eventsTrained(),
                s.version(), s.chunkCount(), restored.olderVersions());
    }

    /** Restores from the newest snapshot {@code decoder} accepts, and counts what was refused on the way. */
    private <T> SnapshotRestore.Outcome<T> restoreNewest(final SnapshotRestore.Decoder<T> decoder, final String advice)
            throws IOException {
        try (SnapshotReader reader = SnapshotReader.open(clientConfig(), config.schemaRegistryUrl(),
                config.registryOverrides(), config.topics().snapshots(), config.trainer().modelId(),
                SnapshotReader.Limits.forHeap())) {
            final SnapshotRestore.Outcome<T> outcome = SnapshotRestore.newest(reader, config.trainer().modelId(),
                    decoder, advice);
            snapshotRefusals.addAll(outcome.refusals());
            return outcome;
        }
    }

    /** Snapshot records and versions refused while restoring (at start, and when the trainer caught up since). */
    public List<SnapshotRefusal> snapshotRefusals() {
        return List.copyOf(snapshotRefusals);
    }

    private Map<String, Object> clientConfig() {
        final Map<String, Object> client = new HashMap<>(config.kafkaOverrides());
        client.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return client;
    }

    /**
     * What creating the topics found out.
     *
     * @param guards the configured guards with the dead-letter topic's actual record limit
     * @param dictionarySequence the dictionary sequence topic, or null when the topology needs none
     * @param chunkLogPartitions the chunk topic's partitions, where the topology needs them (a dictionary sequence)
     */
    private record TopicSetup(InputGuards guards, String dictionarySequence, int chunkLogPartitions) {
    }

    /**
     * Creates the missing topics: the dead-letter topic with room for any input record plus the reason headers; and
     * the dictionary sequence topic when a dictionary mapping reads an input of several partitions.
     */
    private TopicSetup createTopics() throws IOException {
        try (Admin admin = Admin.create(clientConfig())) {
            final Set<String> existing = admin.listTopics().names().get();
            final List<NewTopic> missing = new ArrayList<>();
            for (final String topic : config.topics().all()) {
                if (!existing.contains(topic)) {
                    final NewTopic t = new NewTopic(topic, java.util.Optional.of(config.partitions()),
                            config.replicationFactor() < 0 ? java.util.Optional.empty()
                                    : java.util.Optional.of(config.replicationFactor()));
                    if (topic.equals(config.topics().snapshots())) {
                        t.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
                    }
                    if (topic.equals(config.topics().deadLetters())) {
                        final int input = existing.contains(config.topics().events())
                                ? maxMessageBytes(admin, config.topics().events()) : -1;
                        t.configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(
                                Math.max(input, InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES)
                                        + DEAD_LETTER_HEADROOM_BYTES)));
                    }
                    missing.add(topic.equals(config.topics().chunks()) ? chunkTopic() : t);
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get();
                    LOG.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
                } catch (final ExecutionException e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                        throw e;
                    }
                }
                awaitLeaders(admin, missing.stream().map(NewTopic::name).toList());
            }
            final int inputPartitions = usesDictionary() ? inputPartitions(admin) : 1;
            final String sequence = inputPartitions > 1 ? createDictionarySequence(admin) : null;
            final int deadLetterLimit = maxMessageBytes(admin, config.topics().deadLetters());
            if (existing.contains(config.topics().events())
                    && deadLetterLimit < maxMessageBytes(admin, config.topics().events())) {
                LOG.warn("Topic {} takes records of at most {} bytes, fewer than {}: larger dead letters are sent"
                        + " truncated (raise its max.message.bytes to keep them whole)", config.topics().deadLetters(),
                        deadLetterLimit, config.topics().events());
            }
            return new TopicSetup(config.guards().withDeadLetterMaxBytes(Math.max(deadLetterLimit, 16 << 10)), sequence,
                    sequence == null ? 1 : partitions(admin, config.topics().chunks()));
        } catch (final ExecutionException e) {
            throw new IOException("could not create topics on " + config.bootstrapServers() + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating topics", e);
        }
    }

    private int inputPartitions(final Admin admin) throws InterruptedException, ExecutionException {
        return partitions(admin, config.topics().events());
    }

    private static int partitions(final Admin admin, final String topic) throws InterruptedException, ExecutionException {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
    }

    /**
     * The dictionary vocabulary has one writer: on an input of several partitions, the one task that reads the
     * one-partition sequence topic, created here (once; another instance may have just done it) with room for any
     * input record plus the position headers, and for any timestamp the input's time guard lets through.
     *
     * @return its name
     */
    private String createDictionarySequence(final Admin admin) throws InterruptedException, ExecutionException {
        final String topic = io.spillway.app.topology.DictionarySequence.topic(config.applicationId());
        if (!admin.listTopics().names().get().contains(topic)) {
            final NewTopic t = new NewTopic(topic, java.util.Optional.of(1), config.replicationFactor() < 0
                    ? java.util.Optional.empty() : java.util.Optional.of(config.replicationFactor()))
                    .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(Math.max(
                                    maxMessageBytes(admin, config.topics().events()),
                                    InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES) + DEAD_LETTER_HEADROOM_BYTES),
                            // record timestamps as the input has them: the broker's default refuses an hour ahead
                            TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, Long.toString(Long.MAX_VALUE)));
            try {
                admin.createTopics(List.of(t)).all().get();
                LOG.info("Created topic {}: a dictionary mapping on an input of several partitions is chunked by"
                        + " one task", topic);
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                    throw e;
                }
            }
            awaitLeaders(admin, List.of(topic));
        }
        final int partitions = partitions(admin, topic);
        if (partitions != 1) {
            throw new IllegalArgumentException("topic " + topic + " has " + partitions + " partitions: the"
                    + " dictionary's sequence needs one (its one reader is the dictionary's only writer)");
        }
        return topic;
    }

    /**
     * The topic's effective {@code max.message.bytes} (its own, or the broker's default). A topic another instance
     * has just created may not be known to every broker yet: that is retried for a while.
     */
    private static int maxMessageBytes(final Admin admin, final String topic)
            throws InterruptedException, ExecutionException {
        final org.apache.kafka.common.config.ConfigResource resource = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                final org.apache.kafka.clients.admin.ConfigEntry entry = admin.describeConfigs(List.of(resource)).all()
                        .get().get(resource).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                return entry == null || entry.value() == null ? InputGuards.KAFKA_DEFAULT_MAX_MESSAGE_BYTES
                        : Integer.parseInt(entry.value());
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Waits until every partition of the new topics has a leader: an exactly-once producer writing to a partition
     * whose leader is still being elected can be told its sequence numbers are out of order (Kafka 4.x), which
     * fails the stream task.
     */
    private static void awaitLeaders(final Admin admin, final List<String> topics)
            throws InterruptedException, ExecutionException {
        final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!allHaveLeaders(admin, topics)) {
            if (System.nanoTime() > deadline) {
                LOG.warn("Partitions of {} still have no leader after 30 s; starting anyway", topics);
                return;
            }
            Thread.sleep(50);
        }
    }

    /** Whether every partition of the topics has a leader; false while a topic is not known yet. */
    private static boolean allHaveLeaders(final Admin admin, final List<String> topics)
            throws InterruptedException, ExecutionException {
        try {
            return admin.describeTopics(topics).allTopicNames().get().values().stream()
                    .flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        } catch (final ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return false; // created by another instance moments ago
            }
            throw e;
        }
    }

    /**
     * The chunk topic: one partition in replicated training (its order is the training order), one per input
     * partition in split training (the trainers' group splits them); kept until trained (no time-based deletion),
     * records up to {@link #CHUNK_RECORD_LIMIT}.
     */
    private NewTopic chunkTopic() {
        final int partitions = config.trainer().scaleOut().chunkPartitions(config.partitions());
        return new NewTopic(config.topics().chunks(), java.util.Optional.of(partitions),
                config.replicationFactor() < 0 ? java.util.Optional.empty() : java.util.Optional.of(config.replicationFactor()))
                .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1",
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(CHUNK_RECORD_LIMIT)));
    }

    /**
     * Sum of the consumer's per-partition lag on the events topic, or -1 before it is known (see
     * {@link #partitionLags()}); with a dictionary sequence, plus its lag (records sequenced, not yet chunked).
     */
    public long consumerLag() {
        final PartitionLags read = partitionLags();
        final Map<Integer, Long> lags = read.lags();
        if (lags.isEmpty() && read.sequenceLag() < 0) {
            return -1;
        }
        return lags.values().stream().mapToLong(Long::longValue).sum() + Math.max(0, read.sequenceLag());
    }

    /** Records of input partition {@code partition} the Streams consumer has not fetched yet, -1 when unknown. */
    private long inputLag(final int partition) {
        return partitionLags().lags().getOrDefault(partition, -1L);
    }

    /**
     * The Streams consumer's lag per partition of the events topic, from the client's metrics, read at most every
     * {@link #LAG_REFRESH_NANOS}: it walks all of them, and the trainer asks once per step, each stream task at
     * every flush check.
     */
    private PartitionLags partitionLags() {
        final long now = System.nanoTime();
        final PartitionLags cached = partitionLags;
        if (cached != null && now - cached.readAtNanos() < LAG_REFRESH_NANOS) {
            return cached;
        }
        final Map<Integer, Long> lags = new HashMap<>();
        long sequenceLag = -1;
        final KafkaStreams s = streams; // null while the constructor builds the topology
        if (s != null) {
            for (final Map.Entry<MetricName, ? extends Metric> e : s.metrics().entrySet()) {
                final MetricName name = e.getKey();
                if (!name.name().equals("records-lag") || name.tags().get("partition") == null
                        || !(e.getValue().metricValue() instanceof Double d) || d.isNaN()) {
                    continue;
                }
                final String topic = name.tags().get("topic");
                if (config.topics().events().equals(topic)) {
                    lags.merge(Integer.parseInt(name.tags().get("partition")), d.longValue(), Math::max);
                } else if (topic != null && topic.equals(dictionarySequence)) {
                    sequenceLag = Math.max(sequenceLag, d.longValue());
                }
            }
        }
        final PartitionLags read = new PartitionLags(now, Map.copyOf(lags), sequenceLag);
        partitionLags = read;
        return read;
    }

    /** @param sequenceLag the dictionary sequence's lag, -1 when unknown (or there is none) */
    private record PartitionLags(long readAtNanos, Map<Integer, Long> lags, long sequenceLag) {
    }

    public PipelineCounters counters() {
        return counters;
    }

    /** The trainer: a {@link TrainerLoop} (replicated training) or a {@link SplitTrainerLoop} (split training). */
    public Trainer trainer() {
        return trainer;
    }

    /** Where the trainer started: the snapshot restored at start ({@link TrainerLoop.Resume#FRESH} for none). */
    public TrainerLoop.Resume resumedFrom() {
        return resumedFrom;
    }

    /** Offset of the next chunk-log entry the trainer will read (split training: what it committed, summed). */
    public long chunkReadPosition() {
        return chunkLog == null ? trainer.position() : chunkLog.readPosition();
    }

    public OpsMetrics ops() {
        return ops;
    }

    /** The operations endpoint's base URI, or null when disabled. */
    public java.net.URI opsUri() {
        return opsServer == null ? null : opsServer.uri();
    }

    public KafkaStreams.State streamsState() {
        return streams.state();
    }

    /** What {@code /health} answers now. */
    public Health health() {
        return liveness.check();
    }

    public Learner learner() {
        return learner;
    }

    /** What the app saw of Kafka's availability. */
    public io.spillway.app.ops.BrokerWatch brokerWatch() {
        return brokerWatch;
    }

    @Override
    public void close() {
        closing = true;
        // Leave the consumer group, so the partitions move to the other instances (or a restart) at once
        // instead of after the session timeout.
        streams.close(org.apache.kafka.streams.CloseOptions.groupMembershipOperation(
                org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)));
        trainer.stop();
        try {
            trainerThread.join(Duration.ofSeconds(60));
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sink.close();
        if (chunkLog != null) {
            chunkLog.close();
        }
        brokerWatch.close();
        if (sequencePurge != null) {
            sequencePurge.close();
        }
        if (vocabulary != null) {
            vocabulary.close();
        }
        learner.close();
        if (opsServer != null) {
            opsServer.close();
        }
        ops.close();
        LOG.info("Spillway stopped: {} records consumed, {} trained, {} dead-lettered", counters.consumed(),
                trainer.eventsTrained(), counters.deadLettered());
    }
}
