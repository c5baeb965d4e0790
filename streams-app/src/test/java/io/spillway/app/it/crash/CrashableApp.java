package io.spillway.app.it.crash;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.topology.DictionarySequence;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * The app as a separate process for {@code CrashEquivalenceIT}: the same configuration on every start of a run,
 * so a restart after SIGKILL continues where the durable state says. It prints one status line a few times a
 * second on stdout: {@code STATUS <trainer log position> <events trained in the model> <drained> <offset it
 * resumed at>}, where drained
 * means every input record is committed by the topology and the trainer has read the whole committed chunk log.
 * SIGTERM stops it cleanly (a snapshot is published).
 *
 * <p>Arguments: bootstrap servers, registry URL, state directory, run name (suffix of the output topics); optionally
 * a mapping file and a vocabulary size (the user's own records, read through the mapping, as DictionaryCrashIT
 * trains them), and then the input topic (default {@code events}). Drained counts every partition the topology
 * reads: the input's, and a dictionary sequence's.
 */
public final class CrashableApp {
    /** Events per chunk; the test input is sized against it. */
    public static final int CHUNK = 16;
    /** Chunks per step. */
    public static final int BATCH_KEYS = 4;

    private CrashableApp() {
    }

    /** Topics of run {@code run}: the shared input, everything else of its own. */
    public static Topics topics(final String run) {
        return topics(run, "events");
    }

    /** Topics of run {@code run} reading input {@code events}. */
    public static Topics topics(final String run, final String events) {
        return new Topics(events, "events-dlq-" + run, "model-deltas-" + run, "model-snapshots-" + run,
                "training-metrics-" + run, "predictions-" + run, "training-chunks-" + run);
    }

    /**
     * One input partition and no max-wait flush within the test (an hour): the chunk log is then a function of the
     * input alone, identical in every run, and so are the trained weights. The log is kept whole for the audit.
     * Static group membership lets a restarted process take its partition over at once instead of after the
     * killed one's session times out.
     */
    static AppConfig config(final String bootstrap, final String registry, final Path stateDir, final String run) {
        return config(bootstrap, registry, stateDir, run, 8, "events");
    }

    /** The same through a mapping file, with this vocabulary, reading input {@code events}. */
    static AppConfig config(final String bootstrap, final String registry, final Path stateDir, final String run,
                            final Path mapping, final int vocabulary, final String events) throws java.io.IOException {
        return io.spillway.app.it.TestApps.withFormats(config(bootstrap, registry, stateDir, run, vocabulary, events),
                new io.spillway.app.Formats(io.spillway.app.topology.KeyFormat.AUTO, null,
                        io.spillway.app.topology.KeyFormat.TEXT).withValues(io.spillway.app.topology.ValueFormat.AUTO,
                        io.spillway.app.mapping.FieldMapping.load(mapping)));
    }

    private static AppConfig config(final String bootstrap, final String registry, final Path stateDir,
                                    final String run, final int vocabulary, final String events) {
        final LearnerConfig learner = LearnerConfig.builder().vocabularySize(vocabulary).featureDimension(16).hiddenSize(32)
                .optimizer("mfac-sparse").backend("cpu").seed(11).build();
        return AppConfig.builder().bootstrapServers(bootstrap).schemaRegistryUrl(registry).applicationId("crash-" + run)
                .stateDir(stateDir).topics(topics(run, events)).partitions(1).replicationFactor((short) 1).chunkLength(CHUNK)
                .maxChunkWait(Duration.ofHours(1)).learner(learner)
                .trainer(new TrainerSettings("crash-model", "crash-" + run, BATCH_KEYS, 7, 100_000, 64 * 1024, false))
                .limits(new EventLimits(vocabulary, 16, 64, 1 << 20)).opsPort(-1)
                .kafkaOverrides(Map.of("commit.interval.ms", 100, "main.consumer.group.instance.id", "crash-" + run))
                .build();
    }

    public static void main(final String[] args) throws Exception {
        final AppConfig config = args.length > 4
                ? config(args[0], args[1], Path.of(args[2]), args[3], Path.of(args[4]), Integer.parseInt(args[5]),
                        args.length > 6 ? args[6] : "events")
                : config(args[0], args[1], Path.of(args[2]), args[3]);
        final SpillwayApp app = SpillwayApp.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "clean-stop"));
        final TopicPartition chunks = new TopicPartition(config.topics().chunks(), 0);
        final boolean[] drained = new boolean[1];
        final Thread status = new Thread(() -> {
            while (true) {
                final boolean d;
                synchronized (drained) {
                    d = drained[0];
                }
                System.out.println("STATUS " + app.trainer().position() + " " + app.trainer().eventsTrainedTotal() + " " + d
                        + " " + app.resumedFrom().chunkOffset());
                System.out.flush();
                try {
                    Thread.sleep(5);
                } catch (final InterruptedException e) {
                    return;
                }
            }
        }, "status");
        status.setDaemon(true);
        status.start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()))) {
            final List<TopicPartition> inputs = topologyInputs(admin, config);
            while (true) {
                final Map<TopicPartition, OffsetAndMetadata> committed = admin
                        .listConsumerGroupOffsets(config.applicationId()).partitionsToOffsetAndMetadata().get();
                final Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                inputs.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                final var ends = admin.listOffsets(latest).all().get();
                final boolean inputCommitted = inputs.stream().allMatch(tp -> committed.get(tp) != null
                        && committed.get(tp).offset() == ends.get(tp).offset());
                final long chunkEnd = admin.listOffsets(Map.of(chunks, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get().get(chunks).offset();
                synchronized (drained) {
                    drained[0] = inputCommitted && app.chunkReadPosition() >= chunkEnd
                            && app.trainer().failure() == null;
                }
                Thread.sleep(100);
            }
        }
    }

    /** The partitions the topology reads: the input's, and the dictionary sequence's when it has one. */
    private static List<TopicPartition> topologyInputs(final Admin admin, final AppConfig config) throws Exception {
        final String sequence = DictionarySequence.topic(config.applicationId());
        final Set<String> names = admin.listTopics().names().get();
        final List<TopicPartition> inputs = new ArrayList<>();
        for (final var d : admin.describeTopics(names.contains(sequence) ? List.of(config.topics().events(), sequence)
                : List.of(config.topics().events())).allTopicNames().get().values()) {
            d.partitions().forEach(p -> inputs.add(new TopicPartition(d.name(), p.partition())));
        }
        return inputs;
    }
}
