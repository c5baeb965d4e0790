package io.spillway.app.it.crash;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.LearnerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
 * trains them).
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
        return new Topics("events", "events-dlq-" + run, "model-deltas-" + run, "model-snapshots-" + run,
                "training-metrics-" + run, "predictions-" + run, "training-chunks-" + run);
    }

    /**
     * One input partition and no max-wait flush within the test (an hour): the chunk log is then a function of the
     * input alone, identical in every run, and so are the trained weights. The log is kept whole for the audit.
     * Static group membership lets a restarted process take its partition over at once instead of after the
     * killed one's session times out.
     */
    static AppConfig config(final String bootstrap, final String registry, final Path stateDir, final String run) {
        return config(bootstrap, registry, stateDir, run, 8);
    }

    /** The same through a mapping file, with this vocabulary. */
    static AppConfig config(final String bootstrap, final String registry, final Path stateDir, final String run,
                            final Path mapping, final int vocabulary) throws java.io.IOException {
        return io.spillway.app.it.TestApps.withFormats(config(bootstrap, registry, stateDir, run, vocabulary),
                new io.spillway.app.Formats(io.spillway.app.topology.KeyFormat.AUTO, null,
                        io.spillway.app.topology.KeyFormat.TEXT).withValues(io.spillway.app.topology.ValueFormat.AUTO,
                        io.spillway.app.mapping.FieldMapping.load(mapping)));
    }

    private static AppConfig config(final String bootstrap, final String registry, final Path stateDir,
                                    final String run, final int vocabulary) {
        final LearnerConfig learner = LearnerConfig.builder().vocabularySize(vocabulary).featureDimension(16).hiddenSize(32)
                .optimizer("mfac-sparse").backend("cpu").seed(11).build();
        return AppConfig.builder().bootstrapServers(bootstrap).schemaRegistryUrl(registry).applicationId("crash-" + run)
                .stateDir(stateDir).topics(topics(run)).partitions(1).replicationFactor((short) 1).chunkLength(CHUNK)
                .maxChunkWait(Duration.ofHours(1)).learner(learner)
                .trainer(new TrainerSettings("crash-model", "crash-" + run, BATCH_KEYS, 7, 100_000, 64 * 1024, false))
                .limits(new EventLimits(vocabulary, 16, 64, 1 << 20)).opsPort(-1)
                .kafkaOverrides(Map.of("commit.interval.ms", 100, "main.consumer.group.instance.id", "crash-" + run))
                .build();
    }

    public static void main(final String[] args) throws Exception {
        final AppConfig config = args.length > 4
                ? config(args[0], args[1], Path.of(args[2]), args[3], Path.of(args[4]), Integer.parseInt(args[5]))
                : config(args[0], args[1], Path.of(args[2]), args[3]);
        final SpillwayApp app = SpillwayApp.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "clean-stop"));
        final TopicPartition input = new TopicPartition(config.topics().events(), 0);
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
            while (true) {
                final OffsetAndMetadata committed = admin.listConsumerGroupOffsets(config.applicationId())
                        .partitionsToOffsetAndMetadata().get().get(input);
                final long inputEnd = admin.listOffsets(Map.of(input, OffsetSpec.latest())).all().get().get(input).offset();
                final long chunkEnd = admin.listOffsets(Map.of(chunks, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get().get(chunks).offset();
                synchronized (drained) {
                    drained[0] = committed != null && committed.offset() == inputEnd
                            && app.chunkReadPosition() >= chunkEnd && app.trainer().failure() == null;
                }
                Thread.sleep(100);
            }
        }
    }
}
