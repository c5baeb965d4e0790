package io.spillway.app.replay.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.ops.TrainingFigures;
import io.spillway.app.replay.CharacterVocabulary;
import io.spillway.app.replay.InterleavedDocuments;
import io.spillway.app.replay.Pacer;
import io.spillway.app.replay.PrequentialEvaluation;
import io.spillway.app.replay.ProcessMemory;
import io.spillway.app.replay.RealDataset;
import io.spillway.app.replay.ReplayCommand;
import io.spillway.app.serving.NextEvent;
import io.spillway.app.serving.Predictor;
import io.spillway.app.serving.PredictorSettings;
import io.spillway.app.topology.EventLimits;
import io.spillway.app.topology.SparseEvents;
import io.spillway.app.topology.Topics;
import io.spillway.app.trainer.ScaleOut;
import io.spillway.app.trainer.TrainerSettings;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.engine.SequenceChunk;
import io.spillway.engine.SparseEvent;
import io.spillway.engine.TrainingStep;
import io.spillway.engine.mixture.ContextModel;
import io.spillway.engine.optim.Optimizers;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The realdata benchmark: on each real data set, Spillway's prequential quality and speed (the default learner,
 * Adam, dense and sparse M-FAC), side by side with its peers on the same stream: the PyTorch twin of the learner's
 * cell ({@code bench/realdata_torch.py --model lif} or {@code --model egru}) and a PyTorch GRU of the same width
 * ({@code --model gru}, a small learning-rate grid), both on exactly the batches Spillway trained, and an
 * adaptive character context model ({@link ContextModel}); at 200k events, at 2M events ({@code long}), at
 * hidden 1024 ({@code wide}), a window-length sweep at one small device budget ({@code window}), and Spillway end
 * to end through an in-JVM KRaft broker against the engine alone ({@code streaming}). Every run is its own
 * process, so peak RSS ({@code VmHWM}) belongs to that run alone; runs go one after the other. Writes
 * {@code bench/results/realdata.json}. The recurrent cell is one switch, {@code -Drealdata.cell} (the engine's
 * default when unset).
 *
 * <p>Usage: {@code streams-app/scripts/realdata-bench.sh [--smoke] [--parts base,long,wide,window,streaming]
 * [out.json]}; children are started as {@code RealDataBenchmark engine|context|e2e ...}.
 */
public final class RealDataBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESULT = "RESULT ";
    private static final String UNAVAILABLE = "UNAVAILABLE ";
    /** Suffix of a thread's time runnable but waiting for a CPU, in the thread breakdown. */
    private static final String WAITING = " (runnable, waiting for a CPU)";

    // One setting for every run: the same model size and schedule of updates.
    static final int HIDDEN = Integer.getInteger("realdata.hidden", 128);
    static final int CHUNK = Integer.getInteger("realdata.chunk", 64);
    static final int BATCH_KEYS = Integer.getInteger("realdata.batchKeys", 16);
    static final int OPEN_DOCUMENTS = Integer.getInteger("realdata.openDocuments", 16);
    static final int MIN_DOCUMENT = Integer.getInteger("realdata.minDocument", 4096);
    static final long EVENTS = Long.getLong("realdata.events", 200_000);
    /** Chunk-log entries a step of the streams app may pass over (its --batch-lookahead). */
    static final int LOOKAHEAD = Integer.getInteger("realdata.lookahead", TrainerSettings.DEFAULT_BATCH_LOOKAHEAD);
    /**
     * Length of the stream of the engine-vs-app comparison (the streaming layer's cost). Its first half warms the
     * app up: on two cores C2 still compiled the broker's, Streams' and the clients' methods at 15-30 a second
     * 40-50 s into a run, 500k events in (PrintCompilation), so the steady state starts later than that.
     */
    static final long STREAMING_EVENTS = Long.getLong("realdata.streamingEvents", 2_000_000);
    /** Pairs of engine and app runs behind each streaming-overhead figure (their median). */
    static final int REPEATS = Math.max(1, Integer.getInteger("realdata.repeats", 3));
    static final float LR = Float.parseFloat(System.getProperty("realdata.lr", "0.003"));
    static final long SEED = 1;
    /** The recurrent cell of every engine run ({@code lif}, ...); null: the engine's default. */
    static final String CELL = System.getProperty("realdata.cell");
    /** Device budget of the engine children, bytes (0: the engine's default); the window sweep sets its own. */
    static final long DEVICE_MEMORY = Long.getLong("realdata.deviceMemory", 0);
    static final List<String> ALL_PARTS = List.of("base", "long", "wide", "window", "streaming");
    /** Parts of the parent run, in order. */
    static final List<String> PARTS = list(System.getProperty("realdata.parts", String.join(",", ALL_PARTS)));
    /** Data sets of the parent run (ids); default: all. */
    static final List<String> DATASETS = list(System.getProperty("realdata.datasets",
            String.join(",", Arrays.stream(RealDataset.values()).map(RealDataset::id).toList())));
    /** Stream length of the {@code long} part. */
    static final long LONG_EVENTS = Long.getLong("realdata.longEvents", 2_000_000);
    /** Width and stream length of the {@code wide} part. */
    static final int WIDE_HIDDEN = Integer.getInteger("realdata.wideHidden", 1024);
    static final long WIDE_EVENTS = Long.getLong("realdata.wideEvents", EVENTS);
    /** Chunk lengths, device budget, stream length and data sets of the {@code window} part. */
    static final List<String> WINDOW_CHUNKS = list(System.getProperty("realdata.windowChunks", "64,256,1024,4096"));
    /** 0: the smallest budget whose shortest window trains with BPTT, times {@link #WINDOW_BUDGET_SLACK}. */
    static final long WINDOW_BUDGET = Long.getLong("realdata.windowDeviceBudget", 0);
    static final double WINDOW_BUDGET_SLACK = 1.02;
    static final long WINDOW_EVENTS = Long.getLong("realdata.windowEvents", LONG_EVENTS);
    static final List<String> WINDOW_DATASETS = list(System.getProperty("realdata.windowDatasets", String.join(",", DATASETS)));
    /** The PyTorch GRU's learning-rate grid (Adam); the best point is reported, every point recorded. */
    static final String GRU_LRS = System.getProperty("realdata.gruLrs", "0.003,0.01,0.02");
    /** The grid at {@link #WIDE_HIDDEN}: wider GRUs want smaller steps (0.02 diverged at hidden 1024). */
    static final String WIDE_GRU_LRS = System.getProperty("realdata.wideGruLrs", "0.001,0.003,0.01");
    /** The grid at 2M events ({@code long}): smaller rates won there (0.003 constant, 0.01 with the decay). */
    static final String LONG_GRU_LRS = System.getProperty("realdata.longGruLrs", "0.003,0.01");
    /**
     * The decays of the PyTorch GRU's Adam ({@code lr / sqrt(1 + t / decay)}, 0: constant), each with the whole
     * learning-rate grid: the engine's default EGRU decays its rate, so the GRU gets the same schedule to pick.
     */
    static final List<String> GRU_DECAYS = list(System.getProperty("realdata.gruDecays", "0,100"));
    /** Extra grid points the GRU may add beyond an edge of its grid while its best point lies on that edge. */
    static final int GRU_EXTEND = Integer.getInteger("realdata.gruExtend", 1);
    /** Gradient-norm clipping of the PyTorch GRU (0: none). */
    static final double GRU_CLIP = Double.parseDouble(System.getProperty("realdata.gruClip", "0"));
    /** Longest context of the context model. */
    static final int CONTEXT_ORDER = Integer.getInteger("realdata.contextOrder", 5);
    /**
     * Threads of the PyTorch peers: as many as the engine computes on. Its CPU backend trains a window on one thread
     * (single-threaded OpenBLAS for the dense products); a second thread only recomputes ahead under checkpointing
     * schedules, and every comparison with a peer runs BPTT. At these sizes one thread is also PyTorch's fastest:
     * GRU-128 trained 47,000 events/s on one thread and 23,000-30,000 on two, GRU-1024 875 and 728, side by side
     * on 2 cores.
     */
    static final int TORCH_THREADS = Integer.getInteger("realdata.torchThreads", 1);
    /** Whether a run of some parts keeps the other parts' figures from the existing results file. */
    static final boolean MERGE = Boolean.getBoolean("realdata.merge");
    /** The optimizer argument of an engine child meaning the engine's default optimizer at its default rate. */
    static final String DEFAULT = "default";
    /**
     * The warm-up before either side's measured run, in ms: the app's ({@code --warm-up}, the CLI's default) and
     * the same {@link Learners#warmUp} before the engine's own run, so both are measured with the engine compiled.
     */
    static final long WARM_UP_MS = Long.getLong("realdata.warmUpMs", 5_000);
    /**
     * The e2e child's rate of producing the second half, events/s (0: as fast as it can): the parent sets it to
     * {@link #LIVE_RATE_OVER_ENGINE} times the paired engine run's steady rate, so the input always outpaces the
     * app (whose rate is at most the engine's) and arrives as a live stream does, not in one burst that Kafka
     * Streams works through partition by partition at its own pace.
     */
    static final long LIVE_RATE = Long.getLong("realdata.liveRate", 0);
    static final double LIVE_RATE_OVER_ENGINE = 1.25;
    /**
     * Events after each engine run that {@code serve}'s predictor scores (with the trained weights, fixed) beside the
     * trainer training on; 0: none.
     */
    static final int SERVED_EVENTS = Integer.getInteger("realdata.servedEvents", 20_000);

    private RealDataBenchmark() {
    }

    public static void main(final String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("engine")) {
            engine(RealDataset.byId(args[1]), args[2], args.length > 3 ? Path.of(args[3]) : null);
        } else if (args.length > 0 && args[0].equals("context")) {
            context(RealDataset.byId(args[1]));
        } else if (args.length > 0 && args[0].equals("bptt-budget")) {
            bpttBudget();
        } else if (args.length > 0 && args[0].equals("e2e")) {
            endToEnd(RealDataset.byId(args[1]), args.length > 2 ? args[2] : "exactly_once_v2");
        } else {
            all(Path.of(args.length > 0 ? args[0] : "bench/results/realdata.json"));
        }
    }

    static InterleavedDocuments stream(final RealDataset ds) throws IOException {
        return new InterleavedDocuments(ds.documents(), OPEN_DOCUMENTS, MIN_DOCUMENT, SEED);
    }

    /**
     * The engine with {@code optimizer} on the cell {@link #CELL}: Adam on LIF at the LIF twin's learning rate
     * ({@link #LR}), on another cell at the engine's default for that cell (its tuned rate), and at {@link #LR}
     * wherever {@code -Drealdata.lr} is given; M-FAC variants at their own defaults (learning rate, window,
     * damping); {@link #DEFAULT}: the engine's default optimizer at its default rate. {@code adam} on a cell whose
     * default optimizer is Adam with settings (the EGRU's {@code adam:decay=100}) means that default; a
     * constant-rate Adam is {@code adam:decay=0}.
     */
    static LearnerConfig learner(final String optimizer) {
        final LearnerConfig.Builder b = LearnerConfig.builder().vocabularySize(CharacterVocabulary.SIZE)
                .featureDimension(0).hiddenSize(HIDDEN).layers(1).backend("cpu").seed(42);
        if (!optimizer.equals(DEFAULT)) {
            b.optimizer(optimizer);
        }
        if (optimizer.equals("adam") || optimizer.startsWith("adam:")) {
            if (CELL != null) {
                b.cell(CELL);
            }
            final String cell = b.build().cell();
            if (optimizer.equals("adam") && LearnerConfig.defaultOptimizer(cell).startsWith("adam")) {
                // "Adam" of a cell whose default is Adam: with the cell's default settings of it (the EGRU's decay)
                b.optimizer(LearnerConfig.defaultOptimizer(cell));
            }
            if (System.getProperty("realdata.lr") != null || cell.equals("lif")) {
                b.learningRate(LR);
            }
        } else if (!optimizer.equals(DEFAULT) && System.getProperty("realdata.optimizerLr") != null) {
            b.learningRate(Float.parseFloat(System.getProperty("realdata.optimizerLr")));
        }
        if (DEVICE_MEMORY > 0) {
            b.deviceMemoryBytes(DEVICE_MEMORY);
        }
        if (CELL != null) {
            b.cell(CELL);
        }
        cellOverrides(b);
        return b.build();
    }

    /**
     * Settings of the cell for exploring them: -Drealdata.layers, .activityTarget, .thresholdMean, .readout,
     * .mixture, .clip.
     */
    private static void cellOverrides(final LearnerConfig.Builder b) {
        final String layers = System.getProperty("realdata.layers");
        if (layers != null) {
            b.layers(Integer.parseInt(layers));
        }
        final String target = System.getProperty("realdata.activityTarget");
        if (target != null) {
            b.activityTarget(Float.parseFloat(target));
        }
        final String threshold = System.getProperty("realdata.thresholdMean");
        if (threshold != null) {
            b.thresholdMean(Float.parseFloat(threshold));
        }
        final String readout = System.getProperty("realdata.readout");
        if (readout != null) {
            b.readout(readout);
        }
        final String mixture = System.getProperty("realdata.mixture");
        if (mixture != null) {
            b.mixture(mixture);
        }
        final String clip = System.getProperty("realdata.clip");
        if (clip != null) {
            b.gradientClip(Float.parseFloat(clip));
        }
    }

    private static List<String> list(final String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(v -> !v.isEmpty()).toList();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Child: prequential run of the engine alone; optionally exports the schedule and initial parameters. */
    private static void engine(final RealDataset ds, final String optimizer, final Path export) throws Exception {
        final InterleavedDocuments events = stream(ds);
        final PrequentialEvaluation.Result r;
        final LearnerConfig config;
        try {
            config = learner(optimizer);
            Learners.create(config).close();
        } catch (final IllegalArgumentException unavailable) {
            System.out.println(UNAVAILABLE + unavailable.getMessage());
            System.exit(3);
            return;
        }
        Learners.warmUp(config, CHUNK, BATCH_KEYS, Duration.ofMillis(WARM_UP_MS));
        final long cpu0 = processCpuNanos();
        final String description;
        // The steady-state rate: over the second half of the events (JIT warm-up and start-up behind it).
        // events handed to training so far, when the half was reached, events before it, when the first batch came
        final long[] half = {0, 0, 0, 0};
        final PrequentialEvaluation.BatchListener halfway = batch -> {
            if (half[3] == 0) {
                half[3] = System.nanoTime();
            }
            half[0] += batch.stream().mapToInt(c -> c.events().size()).sum();
            if (half[1] == 0 && half[0] >= EVENTS / 2) {
                half[1] = System.nanoTime();
                half[2] = half[0] - batch.stream().mapToInt(c -> c.events().size()).sum();
            }
        };
        final StepRecorder steps = new StepRecorder();
        final long cpuSeconds;
        final long endAt;
        ObjectNode served = null;
        try (Learner learner = steps.wrap(Learners.create(config))) { // closing the view closes the engine's learner
            description = learner.optimizerDescription();
            if (export != null) {
                ScheduleFiles.writeParameters(export.resolve("params.bin"), learner.parameters());
                try (ScheduleFiles.ScheduleWriter w = new ScheduleFiles.ScheduleWriter(export.resolve("schedule.bin"),
                        CharacterVocabulary.SIZE)) {
                    r = new PrequentialEvaluation(CHUNK, BATCH_KEYS).run(learner, events, EVENTS, batch -> {
                        halfway.beforeTrain(batch);
                        w.write(batch);
                    });
                }
            } else {
                r = new PrequentialEvaluation(CHUNK, BATCH_KEYS).run(learner, events, EVENTS, halfway);
            }
            endAt = System.nanoTime();
            cpuSeconds = processCpuNanos() - cpu0;
            if (SERVED_EVENTS > 0) {
                served = served(learner, config, events);
            }
        }
        final ObjectNode o = JSON.createObjectNode();
        o.put("events", r.events()).put("targets", r.targets()).put("steps", r.steps())
                .put("loss_nats", r.meanLossNats()).put("bits_per_event", r.bitsPerEvent())
                .put("accuracy", r.accuracy()).put("first_step_loss_nats", r.firstStepLossNats())
                .put("mixture", config.mixture()).put("prediction_bits_per_event", r.predictionBitsPerEvent())
                .put("prediction_accuracy", r.predictionAccuracy())
                .put("events_per_s", r.trainedEventsPerSecond()).put("train_seconds", r.trainSeconds())
                .put("diverged_steps", r.divergedSteps()).put("documents", events.documentsOpened())
                .put("cpu_seconds", cpuSeconds / 1e9).put("learning_rate", config.learningRate())
                .put("optimizer", config.optimizer()).put("optimizer_description", description)
                .put("peak_rss_bytes", ProcessMemory.peakRssBytes())
                .put("events_per_s_first_half", half[2] / ((half[1] - half[3]) / 1e9))
                .put("events_per_s_second_half", (r.events() - half[2]) / ((endAt - half[1]) / 1e9))
                .put("cell", config.cell()).put("hidden", config.hiddenSize()).put("chunk", CHUNK)
                .put("activity", r.activity()).put("schedule", steps.mainSchedule())
                .put("device_peak_bytes", steps.peakDeviceBytes()).put("device_budget_bytes", config.deviceMemoryBytes());
        o.set("schedules", JSON.valueToTree(steps.schedules()));
        if (export != null) {
            twinInputs(o, config, steps);
        }
        if (served != null) {
            o.set("served", served);
        }
        System.out.println(RESULT + o);
    }

    /**
     * What {@code serve} would publish on the stream's next {@link #SERVED_EVENTS} events, scoring them one at a
     * time as they come with the trained model fixed: with the learner's mixture (a copy of its counts, learning on
     * from the events scored) and with the network alone, keys starting from the zero state; beside them, the
     * trainer's published and network predictions of the same events as it trains on. Bits per predicted event.
     */
    private static ObjectNode served(final Learner learner, final LearnerConfig config,
                                     final Iterator<Event> events) {
        final List<Event> next = new ArrayList<>();
        while (events.hasNext() && next.size() < SERVED_EVENTS) {
            next.add(events.next());
        }
        final PredictorSettings mixed = PredictorSettings.of(
                Map.of(), "http://unused", Map.of(), Topics.defaults(), "bench", config,
                ScaleOut.REPLICATE).withTopK(config.vocabularySize());
        final PredictorSettings alone = PredictorSettings.of(
                Map.of(), "http://unused", Map.of(), Topics.defaults(), "bench",
                config.toBuilder().mixture("none").build(), ScaleOut.REPLICATE)
                .withTopK(config.vocabularySize());
        double mixedBits = 0;
        double aloneBits = 0;
        long predicted = 0;
        final long t0 = System.nanoTime();
        try (Predictor withCounts = Predictor.of(mixed, learner);
             Predictor network = Predictor.fixed(alone,
                     learner.version(), learner.parameters())) {
            final Map<String, NextEvent[]> last = new HashMap<>();
            long offset = 0;
            for (final Event e : next) {
                final SparseEvent event = SparseEvents.of(e);
                final NextEvent[] before = last.get(e.getEntityId());
                if (before != null) {
                    mixedBits -= log2(probabilityOf(before[0], event.eventType()));
                    aloneBits -= log2(probabilityOf(before[1], event.eventType()));
                    predicted++;
                }
                final long[] at = {offset++};
                last.put(e.getEntityId(), new NextEvent[] {
                        withCounts.observe(e.getEntityId(), List.of(event), at).getFirst(),
                        network.observe(e.getEntityId(), List.of(event), at).getFirst()});
            }
        }
        final double scoringSeconds = (System.nanoTime() - t0) / 1e9;
        final PrequentialEvaluation.Result trained = new PrequentialEvaluation(CHUNK, BATCH_KEYS).run(learner,
                next.iterator(), next.size(), null);
        final ObjectNode o = JSON.createObjectNode();
        o.put("events", next.size()).put("predicted", predicted)
                .put("bits_per_event", mixedBits / predicted).put("bits_per_event_network", aloneBits / predicted)
                .put("trainer_bits_per_event", trained.predictionBitsPerEvent())
                .put("trainer_bits_per_event_network", trained.bitsPerEvent())
                .put("scored_events_per_s", 2 * next.size() / scoringSeconds);
        return o;
    }

    private static double probabilityOf(final NextEvent e, final int type) {
        for (final NextEvent.Candidate c : e.top()) {
            if (c.eventType() == type) {
                return c.probability();
            }
        }
        throw new IllegalStateException("event type " + type + " is not among the candidates");
    }

    private static double log2(final double p) {
        return Math.log(p) / Math.log(2);
    }

    /**
     * What a PyTorch twin of an exported run needs beside the schedule and parameter files: the first steps' mean
     * losses, and for the EGRU the twin's arguments for this configuration (or why the twin does not reproduce it).
     */
    private static void twinInputs(final ObjectNode o, final LearnerConfig config, final StepRecorder steps) {
        o.set("step_losses", JSON.valueToTree(steps.stepLosses()));
        if (config.cell().equals("egru")) {
            try {
                o.set("egru_twin_arguments", JSON.valueToTree(TorchEgruTwin.arguments(config)));
            } catch (final IllegalArgumentException notReproduced) {
                o.put("egru_twin_arguments", notReproduced.getMessage());
            }
        }
    }

    /**
     * Child: the smallest device budget (to 4 KiB) in which the default learner trains a window of {@link #CHUNK}
     * steps with BPTT, found by bisection on learners that each train two synthetic batches (the second one's
     * windows have the full {@code CHUNK} steps). The planner sizes windows from bounds, not from the events, so
     * synthetic events give the budget real ones need.
     */
    private static void bpttBudget() {
        long fits = 1L << 32;
        long fails = 1L << 12;
        final RuntimeException[] why = new RuntimeException[1];
        if (!bpttFits(fits, why)) {
            throw new IllegalStateException("no budget up to 4 GiB trains " + CHUNK + "-step windows with BPTT", why[0]);
        }
        while (fits - fails > 4096) {
            final long mid = fails + (fits - fails) / 2;
            if (bpttFits(mid, why)) {
                fits = mid;
            } else {
                fails = mid;
            }
        }
        System.out.println(RESULT + JSON.createObjectNode().put("bptt_budget_bytes", fits).put("chunk", CHUNK)
                .put("cell", learner(DEFAULT).cell()));
    }

    private static boolean bpttFits(final long budget, final RuntimeException[] why) {
        final LearnerConfig config = learner(DEFAULT).toBuilder().deviceMemoryBytes(budget).build();
        final SplittableRandom random = new SplittableRandom(SEED);
        try (Learner learner = Learners.create(config)) {
            TrainingStep step = null;
            for (int round = 0; round < 2; round++) {
                final List<SequenceChunk> batch = new ArrayList<>();
                for (int k = 0; k < BATCH_KEYS; k++) {
                    final List<SparseEvent> events = new ArrayList<>();
                    for (int t = 0; t < CHUNK; t++) {
                        events.add(SparseEvent.ofType(random.nextInt(CharacterVocabulary.SIZE)));
                    }
                    batch.add(new SequenceChunk("k" + k, events));
                }
                step = learner.train(batch);
            }
            return step.schedule().equals("bptt");
        } catch (final RuntimeException tooSmall) { // the fixed bookings or the window do not fit at all
            why[0] = tooSmall;
            return false;
        }
    }

    /**
     * Child: the context model, prequential on the same stream in its own order, event by event. Its targets are
     * Spillway's: every event but each key's first (which, as for the learner, only starts the key's context).
     */
    private static void context(final RealDataset ds) throws Exception {
        final InterleavedDocuments events = stream(ds);
        // the learner's own context model, alone and unbounded
        final ContextModel model = new ContextModel(CharacterVocabulary.SIZE, CONTEXT_ORDER, Integer.MAX_VALUE);
        final Map<String, Long> histories = new HashMap<>();
        final long cpu0 = processCpuNanos();
        final long t0 = System.nanoTime();
        long read = 0;
        long targets = 0;
        long correct = 0;
        double bits = 0;
        final double[] p = new double[CharacterVocabulary.SIZE];
        final boolean accuracy = Boolean.parseBoolean(System.getProperty("realdata.contextAccuracy", "false"));
        while (events.hasNext() && (EVENTS <= 0 || read < EVENTS)) {
            final Event e = events.next();
            read++;
            final int symbol = e.getEventType();
            final Long seen = histories.get(e.getEntityId());
            final long h = seen == null ? ContextModel.EMPTY_HISTORY : seen;
            if (seen != null) {
                bits -= Math.log(model.probability(h, symbol));
                if (accuracy) {
                    model.distribution(h, p);
                    int best = 0;
                    for (int s = 1; s < p.length; s++) {
                        best = p[s] > p[best] ? s : best;
                    }
                    correct += best == symbol ? 1 : 0;
                }
                targets++;
            }
            histories.put(e.getEntityId(), model.update(h, symbol));
        }
        final double seconds = (System.nanoTime() - t0) / 1e9;
        final ObjectNode o = JSON.createObjectNode();
        o.put("events", read).put("targets", targets).put("bits_per_event", bits / Math.log(2) / targets)
                .put("loss_nats", bits / targets).put("order", CONTEXT_ORDER).put("pairs", model.pairs())
                .put("events_per_s", read / seconds).put("cpu_seconds", (processCpuNanos() - cpu0) / 1e9)
                .put("peak_rss_bytes", ProcessMemory.peakRssBytes());
        if (accuracy) {
            o.put("accuracy", (double) correct / targets);
        }
        System.out.println(RESULT + o);
    }

    /**
     * Child: the streams app on the same stream through a real broker (publishing predictions, deltas, snapshots
     * and metrics under {@code guarantee}), in two halves. The first half is produced before the app starts: it
     * trains it cold, catching up on a backlog (JIT warm-up of the broker, Kafka Streams and the clients, and all of
     * the first half's stream processing, inside the window). Then the second half is produced, at
     * {@link #LIVE_RATE}, while the warm app runs: its rate is the steady state of continuous training, with every
     * event's stream processing, and the producing too, inside the window. Each rate counts from the first step that trains its half to the last event.
     */
    private static void endToEnd(final RealDataset ds, final String guarantee) throws Exception {
        final Path dir = Files.createTempDirectory("spillway-realdata");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final Topics topics = Topics.defaults();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(topics.events(), Optional.of(4), Optional.of((short) 1))))
                        .all().get();
            }
            final AppConfig config = AppConfig.builder().bootstrapServers(kafka.bootstrapServers())
                    .schemaRegistryUrl(registry.url().toString()).applicationId("realdata").stateDir(dir.resolve("state"))
                    .topics(topics).replicationFactor((short) 1).chunkLength(CHUNK).maxChunkWait(Duration.ofMillis(200))
                    .processingGuarantee(guarantee).learner(learner("adam"))
                    .trainer(TrainerSettings.defaults("realdata", "bench").withBatchKeys(BATCH_KEYS)
                            .withBatchLookahead(LOOKAHEAD, TrainerSettings.DEFAULT_BATCH_WINDOW_MS)
                            .withWarmUp(Duration.ofMillis(WARM_UP_MS)))
                    .limits(new EventLimits(CharacterVocabulary.SIZE, 0, 4096, 1 << 20)).opsPort(-1).build();
            try (StreamProducer producer = new StreamProducer(ds, kafka.bootstrapServers(), registry.url().toString(),
                    topics.events())) {
                final long produceStart = System.nanoTime();
                final long firstHalf = producer.produce(EVENTS / 2);
                final double produceSeconds = (System.nanoTime() - produceStart) / 1e9;
                try (SpillwayApp app = SpillwayApp.start(config)) {
                    final Window cold = Window.await(app, 0, firstHalf);
                    final java.util.concurrent.CompletableFuture<Long> rest = java.util.concurrent.CompletableFuture
                            .supplyAsync(() -> producer.produce(EVENTS - firstHalf, LIVE_RATE));
                    final Window live = Window.await(app, firstHalf, () -> rest.isDone() ? firstHalf + rest.join() : -1);
                    final long produced = firstHalf + rest.join();
                    System.err.print("first half (cold, a backlog): ");
                    printThreadCpu(cold.threadsAtFirst(), cold.threadsAtLast(), cold.events());
                    System.err.print("second half (warm, produced live): ");
                    printThreadCpu(live.threadsAtFirst(), live.threadsAtLast(), live.events());
                    double weighted = 0;
                    double weights = 0;
                    long before = 0;
                    for (final TrainingFigures f : app.ops().history()) {
                        final long n = f.eventsTrained() - before;
                        before = f.eventsTrained();
                        if (Double.isFinite(f.loss()) && n > 0) {
                            weighted += f.loss() * n;
                            weights += n;
                        }
                    }
                    final ObjectNode o = JSON.createObjectNode();
                    o.put("events", produced).put("produce_seconds_first_half", produceSeconds)
                            .put("events_per_s_first_half", cold.eventsPerSecond())
                            .put("events_per_s_second_half", live.eventsPerSecond())
                            .put("cpu_us_per_event_first_half", cold.cpuMicrosPerEvent())
                            .put("cpu_us_per_event_second_half", live.cpuMicrosPerEvent())
                            .put("loss_nats", weighted / weights).put("steps", app.trainer().steps())
                            .put("peak_rss_bytes", ProcessMemory.peakRssBytes());
                    System.out.println(RESULT + o);
                }
            }
        }
    }

    /** Produces the data set's first {@link #EVENTS} events to {@code topic}; returns how many. */
    static long produce(final RealDataset ds, final String bootstrap, final String registry, final String topic)
            throws IOException {
        try (StreamProducer producer = new StreamProducer(ds, bootstrap, registry, topic)) {
            return producer.produce(EVENTS);
        }
    }

    /** The benchmark's producer of the data set's stream, in parts (serialized with the registry, acks=all). */
    private static final class StreamProducer implements AutoCloseable {
        private final Iterator<Event> events;
        private final String topic;
        private final KafkaProducer<String, byte[]> producer;
        private final SpecificAvroSerializer<Event> serializer;

        StreamProducer(final RealDataset ds, final String bootstrap, final String registry, final String topic)
                throws IOException {
            this.events = stream(ds);
            this.topic = topic;
            final Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
            this.serializer = new SpecificAvroSerializer<>(Event.class);
            serializer.configure(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry), false);
        }

        /** Produces the stream's next {@code n} events (fewer where it ends), flushed; returns how many. */
        long produce(final long n) {
            return produce(n, 0);
        }

        /** {@link #produce(long)} at {@code eventsPerSecond} (0: as fast as it can). */
        long produce(final long n, final long eventsPerSecond) {
            final java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
            final long sent;
            try {
                sent = ReplayCommand.replay(events, n, new Pacer(eventsPerSecond), e -> producer.send(
                        new ProducerRecord<>(topic, e.getEntityId(), serializer.serialize(topic, e)), (md, ex) -> {
                            if (ex != null) {
                                failed.compareAndSet(null, ex);
                            }
                        }), () -> { });
            } catch (final Exception e) {
                throw new IllegalStateException("producing the stream failed", e);
            }
            producer.flush();
            if (failed.get() != null) {
                throw new IllegalStateException("producing the stream failed", failed.get());
            }
            return sent;
        }

        @Override
        public void close() {
            producer.close();
            serializer.close();
        }
    }

    /**
     * A measured window of the app: from the moment it is seen to have trained past {@code from} events to the
     * moment it has trained them all.
     *
     * @param events events trained in the window
     */
    private record Window(long events, double seconds, double cpuSeconds, Map<String, Long> threadsAtFirst,
                          Map<String, Long> threadsAtLast) {
        double eventsPerSecond() {
            return events / seconds;
        }

        double cpuMicrosPerEvent() {
            return cpuSeconds * 1e6 / events;
        }

        static Window await(final SpillwayApp app, final long from, final long to) throws InterruptedException {
            return await(app, from, () -> to);
        }

        /** Waits until the app has trained {@code until} events ({@code -1}: not known yet). */
        static Window await(final SpillwayApp app, final long from, final java.util.function.LongSupplier until)
                throws InterruptedException {
            long firstAt = 0;
            long firstEvents = 0;
            long firstCpu = 0;
            Map<String, Long> firstThreads = Map.of();
            long lastProgress = System.nanoTime();
            long seen = -1;
            while (true) {
                final long done = app.trainer().eventsTrained();
                final long now = System.nanoTime();
                if (firstAt == 0 && done > from) {
                    firstAt = now;
                    firstEvents = done; // counted from here: the steps seen done were trained before the clock started
                    firstCpu = processCpuNanos();
                    firstThreads = threadCpu();
                }
                if (done != seen) {
                    seen = done;
                    lastProgress = now;
                }
                final long target = until.getAsLong();
                if (target >= 0 && done >= target) {
                    return new Window(done - firstEvents, (now - firstAt) / 1e9, (processCpuNanos() - firstCpu) / 1e9,
                            firstThreads, threadCpu());
                }
                if (app.trainer().failure() != null || now - lastProgress > Duration.ofSeconds(120).toNanos()) {
                    throw new IllegalStateException("end-to-end run stalled at " + done + " events: "
                            + app.trainer().failure());
                }
                Thread.sleep(10);
            }
        }
    }

    /** CPU time of each live thread of this process (GC and JIT threads too), by tid and OS thread name (Linux). */
    private static Map<String, Long> threadCpu() {
        final Map<String, Long> cpu = new LinkedHashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (final Path t : tasks.toList()) {
                try {
                    final String stat = Files.readString(t.resolve("stat"));
                    final int open = stat.indexOf('(');
                    final int close = stat.lastIndexOf(')');
                    final String[] f = stat.substring(close + 2).split(" ");
                    // fields 14 and 15 (utime, stime) are the 12th and 13th after the name; clock ticks of 10 ms
                    final long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    final String name = stat.substring(open + 1, close) + "#" + t.getFileName();
                    cpu.put(name, ticks * 10_000_000L);
                    // schedstat: ns on the CPU, ns runnable but waiting for one, timeslices
                    final String[] sched = Files.readString(t.resolve("schedstat")).strip().split(" ");
                    cpu.put(name + WAITING, Long.parseLong(sched[1]));
                } catch (final IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (final IOException e) {
            // not Linux: no breakdown
        }
        return cpu;
    }

    /** Diagnostics on stderr: CPU microseconds per event of each thread over the measured window, busiest first. */
    private static void printThreadCpu(final Map<String, Long> before, final Map<String, Long> after, final long events) {
        final List<Map.Entry<String, Long>> used = new ArrayList<>();
        long total = 0;
        for (final Map.Entry<String, Long> e : after.entrySet()) {
            final long ns = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            used.add(Map.entry(e.getKey(), ns));
            total += e.getKey().endsWith(WAITING) ? 0 : ns;
        }
        used.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        final StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "e2e thread CPU (threads alive at the end), us/event: total %.1f%n", total / 1e3 / events));
        for (final Map.Entry<String, Long> e : used.subList(0, Math.min(25, used.size()))) {
            b.append(String.format(Locale.ROOT, "  %7.2f  %s%n", e.getValue() / 1e3 / events, e.getKey()));
        }
        System.err.print(b);
    }

    /** Parent: the selected parts on every selected data set, one process at a time, then the results file. */
    private static void all(final Path out) throws Exception {
        for (final String part : PARTS) { // before anything runs
            if (!ALL_PARTS.contains(part)) {
                throw new IllegalArgumentException("unknown part '" + part + "'; expected some of " + ALL_PARTS);
            }
        }
        DATASETS.forEach(RealDataset::byId);
        WINDOW_DATASETS.forEach(RealDataset::byId);
        final Map<String, Object> figures = new LinkedHashMap<>();
        if (MERGE && Files.exists(out)) {
            // a run of some parts keeps what the file holds from the others (and says which those are), each kept
            // part's machine_<part> and date_<part> with it
            JSON.readTree(out.toFile()).get("figures").fields().forEachRemaining(f -> figures.put(f.getKey(), f.getValue()));
        }
        for (final String part : PARTS) { // where and when each part was measured, since a merged file mixes runs
            figures.put("machine_" + part, machine());
            figures.put("date_" + part, LocalDate.now(ZoneOffset.UTC).toString());
        }
        final LearnerConfig defaults = learner(DEFAULT);
        figures.put("hidden", HIDDEN);
        figures.put("chunk_length", CHUNK);
        figures.put("batch_keys", BATCH_KEYS);
        figures.put("open_documents", OPEN_DOCUMENTS);
        figures.put("events_per_data_set", EVENTS);
        figures.put("warm_up_ms", WARM_UP_MS);
        figures.put("batch_lookahead", LOOKAHEAD);
        figures.put("learning_rate", LR);
        figures.put("vocabulary", CharacterVocabulary.SIZE);
        figures.put("mfac_sparse_density", Optimizers.SPARSE_DENSITY);
        figures.put("mfac_sparse_momentum", Optimizers.SPARSE_MOMENTUM);
        figures.put("mfac_sparse_momentum_variant", Optimizers.SPARSE_MOMENTUM_VARIANT);
        figures.put("cell", defaults.cell());
        figures.put("default_optimizer", defaults.optimizer());
        figures.put("default_learning_rate", (double) defaults.learningRate());
        figures.put("pytorch_gru_learning_rates", GRU_LRS);
        figures.put("pytorch_gru_learning_rates_wide", WIDE_GRU_LRS);
        figures.put("pytorch_gru_learning_rates_long", LONG_GRU_LRS);
        figures.put("pytorch_gru_decays", String.join(",", GRU_DECAYS));
        figures.put("pytorch_gru_grid_extension", GRU_EXTEND);
        figures.put("pytorch_gru_embedding", "learned, the hidden width");
        figures.put("pytorch_gru_clip", GRU_CLIP);
        figures.put("pytorch_threads", TORCH_THREADS);
        figures.put("context_model_order", CONTEXT_ORDER);
        figures.put("context_model", "Witten-Bell interpolation of orders 0-" + CONTEXT_ORDER
                + ", counts shared by all keys, each key's own history as context");
        figures.put("parts", String.join(",", PARTS));
        if (MERGE) {
            figures.put("parts_from_earlier_runs", String.join(",", ALL_PARTS.stream()
                    .filter(part -> !PARTS.contains(part)).toList()));
        }
        for (final String part : PARTS) {
            final long partStarted = System.nanoTime();
            switch (part) {
                case "base", "long", "wide", "streaming" -> {
                    for (final String id : DATASETS) {
                        final RealDataset ds = RealDataset.byId(id);
                        final String p = ds.id().replace('-', '_') + ".";
                        switch (part) {
                            case "base" -> base(ds, p, figures);
                            case "long" -> longStream(ds, p + "long.", figures);
                            case "wide" -> wide(ds, p + "wide.", figures);
                            default -> streaming(ds, p, figures);
                        }
                        System.err.println("realdata: " + ds.id() + " " + part + " done");
                    }
                }
                case "window" -> window(figures);
                default -> throw new IllegalStateException("unknown part " + part);
            }
            figures.put("seconds_" + part, Math.round((System.nanoTime() - partStarted) / 1e9));
        }
        final ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "realdata");
        root.put("machine", machine());
        root.put("date", LocalDate.now(ZoneOffset.UTC).toString());
        root.put("command", System.getProperty("realdata.command", "streams-app/scripts/realdata-bench.sh"));
        root.set("figures", JSON.valueToTree(figures));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(figures));
    }

    /**
     * 200k events at hidden 128: the default learner, Adam, dense and sparse M-FAC, the PyTorch twin of the cell
     * (LIF or EGRU), the PyTorch GRU grid and the context model. Unsuffixed figures are the default learner's.
     */
    private static void base(final RealDataset ds, final String p, final Map<String, Object> figures) throws Exception {
        final Path export = Files.createTempDirectory("realdata-" + ds.id());
        try {
            final JsonNode adam = child(java("engine", ds.id(), "adam", export.toString()));
            final JsonNode def = sameConfig(DEFAULT, "adam") ? adam : child(java("engine", ds.id(), DEFAULT));
            figures.put(p + "events", def.get("events").asLong());
            figures.put(p + "documents", def.get("documents").asLong());
            figures.put(p + "targets", def.get("targets").asLong());
            engineFigures(p, "", def, figures);
            figures.put(p + "optimizer", def.get("optimizer_description").asText());
            figures.put(p + "loss_adam", round(adam.get("loss_nats").asDouble()));
            figures.put(p + "bits_per_event_adam", round(adam.get("bits_per_event").asDouble()));
            figures.put(p + "accuracy_adam", round(adam.get("accuracy").asDouble()));
            figures.put(p + "events_per_s_adam", Math.round(adam.get("events_per_s").asDouble()));
            figures.put(p + "events_per_cpu_s_adam", Math.round(adam.get("targets").asDouble() / adam.get("cpu_seconds").asDouble()));
            figures.put(p + "peak_rss_mb_adam", mb(adam.get("peak_rss_bytes").asLong()));
            figures.put(p + "activity_adam", round(adam.get("activity").asDouble()));
            figures.put(p + "learning_rate_adam", adam.get("learning_rate").asDouble());
            for (final String opt : List.of("mfac", "mfac-sparse")) {
                final String name = opt.replace('-', '_');
                try {
                    final JsonNode r = sameConfig(DEFAULT, opt) ? def : child(java("engine", ds.id(), opt));
                    figures.put(p + "loss_" + name, round(r.get("loss_nats").asDouble()));
                    figures.put(p + "bits_per_event_" + name, round(r.get("bits_per_event").asDouble()));
                    figures.put(p + "accuracy_" + name, round(r.get("accuracy").asDouble()));
                    figures.put(p + "events_per_s_" + name, Math.round(r.get("events_per_s").asDouble()));
                    figures.put(p + "learning_rate_" + name, r.get("learning_rate").asDouble());
                    figures.put(p + "optimizer_" + name, r.get("optimizer_description").asText());
                    figures.put(p + "peak_rss_mb_" + name, mb(r.get("peak_rss_bytes").asLong()));
                } catch (final IllegalStateException missing) {
                    figures.put(p + "loss_" + name, "missing: " + missing.getMessage());
                }
            }
            if (adam.get("cell").asText().equals("lif")) {
                final JsonNode torch = child(List.of("/usr/bin/python3", "bench/realdata_torch.py", "--model", "lif",
                        "--schedule", export.resolve("schedule.bin").toString(), "--params",
                        export.resolve("params.bin").toString(), "--hidden", String.valueOf(HIDDEN), "--lr",
                        String.valueOf(LR), "--threads", String.valueOf(TORCH_THREADS)));
                figures.put(p + "loss_pytorch_adam", round(torch.get("loss_nats").asDouble()));
                figures.put(p + "bits_per_event_pytorch_adam", round(torch.get("bits_per_event").asDouble()));
                figures.put(p + "accuracy_pytorch_adam", round(torch.get("accuracy").asDouble()));
                figures.put(p + "targets_pytorch", torch.get("targets").asLong());
                figures.put(p + "first_step_loss_abs_diff", Math.abs(torch.get("first_step_loss_nats").asDouble()
                        - adam.get("first_step_loss_nats").asDouble()));
                figures.put(p + "events_per_s_pytorch", Math.round(torch.get("events_per_s").asDouble()));
                figures.put(p + "events_per_cpu_s_pytorch", Math.round(torch.get("targets").asDouble() / torch.get("cpu_seconds").asDouble()));
                figures.put(p + "pytorch_threads", torch.get("threads").asInt());
                figures.put(p + "peak_rss_mb_pytorch", mb(torch.get("peak_rss_bytes").asLong()));
                figures.put(p + "speedup_vs_pytorch", round(adam.get("events_per_s").asDouble()
                        / torch.get("events_per_s").asDouble()));
            } else if (adam.get("cell").asText().equals("egru")) {
                egruTwin(export, adam, p, figures);
            } else {
                figures.put(p + "loss_pytorch_adam", "skipped: the PyTorch twins are of the LIF and EGRU cells, this"
                        + " run's is " + adam.get("cell").asText());
            }
            gru(export.resolve("schedule.bin"), HIDDEN, GRU_LRS, p, def, figures);
            contextModel(ds, EVENTS, p, def, figures);
        } finally {
            deleteExport(export);
        }
    }

    /** The long stream: the default learner, Adam and sparse M-FAC, the PyTorch GRU grid, the context model. */
    private static void longStream(final RealDataset ds, final String p, final Map<String, Object> figures)
            throws Exception {
        final Path export = Files.createTempDirectory("realdata-long-" + ds.id());
        try {
            final JsonNode def = child(with("realdata.events", LONG_EVENTS, java("engine", ds.id(), DEFAULT,
                    export.toString())));
            figures.put(p + "events", def.get("events").asLong());
            figures.put(p + "targets", def.get("targets").asLong());
            engineFigures(p, "", def, figures);
            for (final String opt : List.of("adam", "mfac-sparse")) {
                final JsonNode r = sameConfig(DEFAULT, opt) ? def
                        : child(with("realdata.events", LONG_EVENTS, java("engine", ds.id(), opt)));
                engineFigures(p, "_" + opt.replace('-', '_'), r, figures);
            }
            gru(export.resolve("schedule.bin"), HIDDEN, LONG_GRU_LRS, p, def, figures);
            contextModel(ds, LONG_EVENTS, p, def, figures);
        } finally {
            deleteExport(export);
        }
    }

    /** The wide model: the default learner at {@link #WIDE_HIDDEN} and the PyTorch GRU grid of that width. */
    private static void wide(final RealDataset ds, final String p, final Map<String, Object> figures) throws Exception {
        final Path export = Files.createTempDirectory("realdata-wide-" + ds.id());
        try {
            final JsonNode def = child(with("realdata.hidden", WIDE_HIDDEN, with("realdata.events", WIDE_EVENTS,
                    java("engine", ds.id(), DEFAULT, export.toString()))));
            figures.put(p + "hidden", WIDE_HIDDEN);
            figures.put(p + "events", def.get("events").asLong());
            engineFigures(p, "", def, figures);
            gru(export.resolve("schedule.bin"), WIDE_HIDDEN, WIDE_GRU_LRS, p, def, figures);
        } finally {
            deleteExport(export);
        }
    }

    /**
     * The window sweep: the default learner at each chunk length in one device budget, small enough that BPTT
     * cannot hold the long windows, with the schedule the planner picks for each length.
     */
    private static void window(final Map<String, Object> figures) throws Exception {
        final long budget;
        if (WINDOW_BUDGET > 0) {
            budget = WINDOW_BUDGET;
            figures.put("window_device_budget_rule", "set (-Drealdata.windowDeviceBudget)");
        } else {
            // BPTT holds the shortest window and no longer one: the longer ones need the planner's other schedules
            final int shortest = WINDOW_CHUNKS.stream().mapToInt(Integer::parseInt).min().orElseThrow();
            final long bptt = child(with("realdata.chunk", shortest, java("bptt-budget"))).get("bptt_budget_bytes")
                    .asLong();
            budget = (long) Math.ceil(bptt * WINDOW_BUDGET_SLACK / 65536) * 65536;
            figures.put("window_device_budget_rule", String.format(Locale.ROOT,
                    "the smallest budget in which %d-step windows train with BPTT (%d bytes), x %.2f, to 64 KiB",
                    shortest, bptt, WINDOW_BUDGET_SLACK));
        }
        figures.put("window_device_budget_bytes", budget);
        figures.put("window_events", WINDOW_EVENTS);
        for (final String id : WINDOW_DATASETS) {
            final RealDataset ds = RealDataset.byId(id);
            for (final String t : WINDOW_CHUNKS) {
                final String p = ds.id().replace('-', '_') + ".window_" + t + ".";
                try {
                    final JsonNode r = child(with("realdata.chunk", Integer.parseInt(t), with("realdata.deviceMemory",
                            budget, with("realdata.events", WINDOW_EVENTS, java("engine", ds.id(), DEFAULT)))));
                    figures.put(p + "bits_per_event", round(r.get("bits_per_event").asDouble()));
                    figures.put(p + "schedule", r.get("schedule").asText());
                    figures.put(p + "schedules", JSON.convertValue(r.get("schedules"), List.class));
                    figures.put(p + "device_peak_bytes", r.get("device_peak_bytes").asLong());
                    figures.put(p + "events_per_s", Math.round(r.get("events_per_s").asDouble()));
                    figures.put(p + "steps", r.get("steps").asLong());
                    figures.put(p + "activity", round(r.get("activity").asDouble()));
                } catch (final IllegalStateException failed) {
                    figures.put(p + "bits_per_event", "failed: " + failed.getMessage());
                }
            }
            System.err.println("realdata: " + ds.id() + " window done");
        }
    }

    /** An engine run's quality and speed figures under {@code prefix} with {@code suffix} after each name. */
    private static void engineFigures(final String prefix, final String suffix, final JsonNode r,
                                      final Map<String, Object> figures) {
        figures.put(prefix + "loss" + suffix, round(r.get("loss_nats").asDouble()));
        figures.put(prefix + "bits_per_event" + suffix, round(r.get("bits_per_event").asDouble()));
        figures.put(prefix + "accuracy" + suffix, round(r.get("accuracy").asDouble()));
        if (!r.path("mixture").asText("none").equals("none")) {
            // what the learner publishes: the network's predictions mixed with its context model's
            figures.put(prefix + "bits_per_event_mixture" + suffix, round(r.get("prediction_bits_per_event").asDouble()));
            figures.put(prefix + "accuracy_mixture" + suffix, round(r.get("prediction_accuracy").asDouble()));
        }
        figures.put(prefix + "activity" + suffix, round(r.get("activity").asDouble()));
        figures.put(prefix + "events_per_s" + suffix, Math.round(r.get("events_per_s").asDouble()));
        figures.put(prefix + "events_per_cpu_s" + suffix, Math.round(r.get("targets").asDouble()
                / r.get("cpu_seconds").asDouble()));
        figures.put(prefix + "peak_rss_mb" + suffix, mb(r.get("peak_rss_bytes").asLong()));
        figures.put(prefix + "learning_rate" + suffix, r.get("learning_rate").asDouble());
        figures.put(prefix + "schedule" + suffix, r.get("schedule").asText());
        figures.put(prefix + "diverged_steps" + suffix, r.get("diverged_steps").asLong());
        final JsonNode served = r.get("served");
        if (served != null && served.get("predicted").asLong() > 0) {
            // serve's predictions of the next events (the trained model fixed) beside the trainer's training on
            figures.put(prefix + "served_bits_per_event" + suffix, round(served.get("bits_per_event").asDouble()));
            figures.put(prefix + "served_bits_per_event_network" + suffix,
                    round(served.get("bits_per_event_network").asDouble()));
            figures.put(prefix + "served_trainer_bits_per_event" + suffix,
                    round(served.get("trainer_bits_per_event").asDouble()));
            figures.put(prefix + "served_events" + suffix, served.get("events").asLong());
        }
    }

    /** Steps whose losses the EGRU twin's run is compared with the engine's on, step by step. */
    static final int TWIN_STEPS = 16;

    /**
     * The PyTorch twin of the engine's EGRU run {@code engine} (exported to {@code export}): the same model from the
     * same initial parameters on the same batches with the same Adam. Its first-step loss (untrained) must agree
     * with the engine's, its later losses drift apart only by rounding amplified through threshold crossings.
     */
    private static void egruTwin(final Path export, final JsonNode engine, final String p,
                                 final Map<String, Object> figures) throws Exception {
        final JsonNode args = engine.get("egru_twin_arguments");
        if (args == null || !args.isArray()) {
            figures.put(p + "bits_per_event_pytorch_egru", "skipped: " + (args == null
                    ? "the engine run gave no twin arguments" : args.asText()));
            return;
        }
        final List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "bench/realdata_torch.py",
                "--model", "egru", "--schedule", export.resolve("schedule.bin").toString(), "--params",
                export.resolve("params.bin").toString(), "--threads", String.valueOf(TORCH_THREADS),
                "--record-steps", String.valueOf(TWIN_STEPS)));
        args.forEach(a -> command.add(a.asText()));
        final JsonNode twin = child(command);
        if (twin.get("targets").asLong() != engine.get("targets").asLong()) {
            throw new IllegalStateException("the PyTorch EGRU twin trained " + twin.get("targets") + " targets, the"
                    + " engine " + engine.get("targets") + ": not the same schedule");
        }
        final double engineFirst = engine.get("first_step_loss_nats").asDouble();
        final double twinFirst = twin.get("first_step_loss_nats").asDouble();
        figures.put(p + "first_step_loss_adam", engineFirst);
        figures.put(p + "first_step_loss_pytorch_egru", twinFirst);
        figures.put(p + "first_step_loss_rel_diff_pytorch_egru", Math.abs(twinFirst - engineFirst) / engineFirst);
        double worst = 0;
        final JsonNode engineSteps = engine.get("step_losses");
        final JsonNode twinSteps = twin.get("step_losses_nats");
        for (int s = 0; s < Math.min(engineSteps.size(), twinSteps.size()); s++) {
            worst = Math.max(worst, Math.abs(twinSteps.get(s).asDouble() / engineSteps.get(s).asDouble() - 1));
        }
        figures.put(p + "step_losses_max_rel_diff_pytorch_egru", worst);
        figures.put(p + "step_losses_compared_pytorch_egru", Math.min(engineSteps.size(), twinSteps.size()));
        figures.put(p + "loss_pytorch_egru", round(twin.get("loss_nats").asDouble()));
        figures.put(p + "bits_per_event_pytorch_egru", round(twin.get("bits_per_event").asDouble()));
        figures.put(p + "accuracy_pytorch_egru", round(twin.get("accuracy").asDouble()));
        figures.put(p + "activity_pytorch_egru", round(twin.get("activity").asDouble()));
        figures.put(p + "events_per_s_pytorch_egru", Math.round(twin.get("events_per_s").asDouble()));
        figures.put(p + "events_per_cpu_s_pytorch_egru", Math.round(twin.get("targets").asDouble()
                / twin.get("cpu_seconds").asDouble()));
        figures.put(p + "peak_rss_mb_pytorch_egru", mb(twin.get("peak_rss_bytes").asLong()));
        figures.put(p + "speedup_vs_pytorch_egru", round(engine.get("events_per_s").asDouble()
                / twin.get("events_per_s").asDouble()));
    }

    /** The PyTorch GRU of width {@code hidden} over the exported schedule, its learning-rate grid in one process. */
    private static void gru(final Path schedule, final int hidden, final String lrs, final String p,
                            final JsonNode engine, final Map<String, Object> figures) throws Exception {
        final List<JsonNode> points = new ArrayList<>();
        JsonNode best = null;
        for (final String decay : GRU_DECAYS) {
            final JsonNode g = child(List.of("/usr/bin/python3", "bench/realdata_torch.py", "--model", "gru",
                    "--schedule", schedule.toString(), "--hidden", String.valueOf(hidden), "--lr", lrs,
                    "--extend", String.valueOf(GRU_EXTEND), "--clip", String.valueOf(GRU_CLIP),
                    "--decay", decay, "--threads", String.valueOf(TORCH_THREADS)));
            if (g.get("targets").asLong() != engine.get("targets").asLong()) {
                throw new IllegalStateException("the PyTorch GRU trained " + g.get("targets") + " targets, the engine "
                        + engine.get("targets") + ": not the same schedule");
            }
            for (final JsonNode point : g.get("grid")) {
                points.add(((com.fasterxml.jackson.databind.node.ObjectNode) point.deepCopy())
                        .put("decay", Double.parseDouble(decay)));
            }
            if (best == null || g.get("bits_per_event").asDouble() < best.get("bits_per_event").asDouble()) {
                best = ((com.fasterxml.jackson.databind.node.ObjectNode) g.deepCopy()).put("decay",
                        Double.parseDouble(decay));
            }
        }
        figures.put(p + "bits_per_event_pytorch_gru", round(best.get("bits_per_event").asDouble()));
        figures.put(p + "accuracy_pytorch_gru", round(best.get("accuracy").asDouble()));
        figures.put(p + "events_per_s_pytorch_gru", Math.round(best.get("events_per_s").asDouble()));
        figures.put(p + "events_per_cpu_s_pytorch_gru", Math.round(best.get("targets").asDouble()
                / best.get("cpu_seconds").asDouble()));
        figures.put(p + "learning_rate_pytorch_gru", best.get("lr").asDouble());
        figures.put(p + "decay_pytorch_gru", best.get("decay").asDouble());
        figures.put(p + "peak_rss_mb_pytorch_gru", mb(best.get("peak_rss_bytes").asLong()));
        final List<Double> rates = new ArrayList<>();
        final List<Double> decays = new ArrayList<>();
        final List<Double> bits = new ArrayList<>();
        final List<Long> speeds = new ArrayList<>();
        for (final JsonNode point : points) {
            rates.add(point.get("lr").asDouble());
            decays.add(point.get("decay").asDouble());
            bits.add(round(point.get("bits_per_event").asDouble()));
            speeds.add(Math.round(point.get("events_per_s").asDouble()));
        }
        figures.put(p + "pytorch_gru_grid_learning_rates", rates);
        figures.put(p + "pytorch_gru_grid_decays", decays);
        figures.put(p + "pytorch_gru_grid_bits_per_event", bits);
        figures.put(p + "pytorch_gru_grid_events_per_s", speeds);
        figures.put(p + "speedup_vs_pytorch_gru", round(engine.get("events_per_s").asDouble()
                / best.get("events_per_s").asDouble()));
    }

    /** The context model on the first {@code events} events; its targets must be the engine run's. */
    private static void contextModel(final RealDataset ds, final long events, final String p, final JsonNode engine,
                                     final Map<String, Object> figures) throws Exception {
        final JsonNode c = child(with("realdata.events", events, java("context", ds.id())));
        if (c.get("targets").asLong() != engine.get("targets").asLong()) {
            throw new IllegalStateException("the context model predicted " + c.get("targets") + " targets, the engine "
                    + engine.get("targets"));
        }
        figures.put(p + "bits_per_event_context_model", round(c.get("bits_per_event").asDouble()));
        figures.put(p + "events_per_s_context_model", Math.round(c.get("events_per_s").asDouble()));
        figures.put(p + "peak_rss_mb_context_model", mb(c.get("peak_rss_bytes").asLong()));
    }

    /** Whether two optimizer arguments give the same learner (then one run serves both). */
    private static boolean sameConfig(final String a, final String b) {
        return learner(a).toString().equals(learner(b).toString());
    }

    private static void deleteExport(final Path export) throws IOException {
        for (final String f : List.of("schedule.bin", "params.bin")) {
            Files.deleteIfExists(export.resolve(f));
        }
        Files.deleteIfExists(export);
    }

    /**
     * The streaming layer's cost, on a stream of STREAMING_EVENTS: engine and app run in turns, REPEATS pairs, each
     * pair's ratio taken side by side (this machine's speed drifts between runs); the figures are the medians, the
     * runs listed too. Steady state: the second half, which the app trains warm while it is produced (its stream
     * processing and the producing inside the window), against the engine's second half. Cold start: the first
     * half, a backlog the app catches up on while the JIT compiles the broker, Kafka Streams and the clients,
     * against the engine's first half. Both sides warm the engine up first. The app trains Adam (as the engine
     * side does).
     */
    private static void streaming(final RealDataset ds, final String p, final Map<String, Object> figures)
            throws Exception {
        final Pairs pairs = pairs(withEvents(STREAMING_EVENTS, java("engine", ds.id(), "adam")),
                withEvents(STREAMING_EVENTS, java("e2e", ds.id())));
        final JsonNode e2e = pairs.medianApp();
        final JsonNode engineMedian = pairs.medianEngine();
        figures.put(p + "streaming_events", e2e.get("events").asLong());
        figures.put(p + "streaming_overhead", pairs.overhead("events_per_s_second_half"));
        figures.put(p + "streaming_overhead_runs", pairs.overheads("events_per_s_second_half"));
        figures.put(p + "events_per_s_engine_steady", Math.round(engineMedian.get("events_per_s_second_half").asDouble()));
        figures.put(p + "events_per_s_streaming", Math.round(e2e.get("events_per_s_second_half").asDouble()));
        figures.put(p + "streaming_overhead_cold_start", pairs.overhead("events_per_s_first_half"));
        figures.put(p + "streaming_overhead_cold_start_runs", pairs.overheads("events_per_s_first_half"));
        figures.put(p + "events_per_s_streaming_cold_start", Math.round(e2e.get("events_per_s_first_half").asDouble()));
        figures.put(p + "cpu_us_per_event_streaming", round(e2e.get("cpu_us_per_event_second_half").asDouble()));
        figures.put(p + "cpu_us_per_event_streaming_cold_start", round(e2e.get("cpu_us_per_event_first_half").asDouble()));
        figures.put(p + "steps_streaming", e2e.get("steps").asLong());
        figures.put(p + "steps_engine", engineMedian.get("steps").asLong());
        figures.put(p + "loss_adam_streaming", round(e2e.get("loss_nats").asDouble()));
        figures.put(p + "loss_adam_engine_streaming_length", round(engineMedian.get("loss_nats").asDouble()));
        figures.put(p + "peak_rss_mb_streaming", mb(e2e.get("peak_rss_bytes").asLong()));
        // the same without transactions, to show what exactly-once costs within the streaming layer (one run,
        // against the median engine run)
        final JsonNode alo = child(live(engineMedian, withEvents(STREAMING_EVENTS, java("e2e", ds.id(), "at_least_once"))));
        figures.put(p + "events_per_s_streaming_at_least_once", Math.round(alo.get("events_per_s_second_half").asDouble()));
        figures.put(p + "streaming_overhead_at_least_once", round(1 - alo.get("events_per_s_second_half").asDouble()
                / engineMedian.get("events_per_s_second_half").asDouble()));
        figures.put(p + "streaming_overhead_cold_start_at_least_once",
                round(1 - alo.get("events_per_s_first_half").asDouble()
                        / engineMedian.get("events_per_s_first_half").asDouble()));
    }

    /** The e2e child command producing its second half at {@link #LIVE_RATE_OVER_ENGINE} times the engine's rate. */
    private static List<String> live(final JsonNode engine, final List<String> command) {
        final List<String> out = new ArrayList<>(command);
        out.add(1, "-Drealdata.liveRate=" + Math.round(LIVE_RATE_OVER_ENGINE
                * engine.get("events_per_s_second_half").asDouble()));
        return out;
    }

    /** The child command with the stream length set to {@code events}. */
    private static List<String> withEvents(final long events, final List<String> command) {
        return with("realdata.events", events, command);
    }

    /** The child command with system property {@code name} set to {@code value} (replacing a value it had). */
    private static List<String> with(final String name, final Object value, final List<String> command) {
        final List<String> out = new ArrayList<>(command);
        out.removeIf(arg -> arg.startsWith("-D" + name + "="));
        out.add(1, "-D" + name + "=" + value);
        return out;
    }

    private static List<String> java(final String... args) {
        final List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx1g");
        cmd.add(io.spillway.app.it.JvmOptions.argFile());
        for (final String prop : List.of("realdata.hidden", "realdata.chunk", "realdata.batchKeys",
                "realdata.openDocuments", "realdata.minDocument", "realdata.events", "realdata.lookahead",
                "realdata.warmUpMs", "realdata.lr", "realdata.optimizerLr", "realdata.cell", "realdata.deviceMemory",
                "realdata.contextOrder")) {
            if (System.getProperty(prop) != null) {
                cmd.add("-D" + prop + "=" + System.getProperty(prop));
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(RealDataBenchmark.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Engine and app runs taken in turns, in pairs. */
    private record Pairs(List<JsonNode> engine, List<JsonNode> app) {
        /** Per pair, 1 - app rate / engine rate of {@code rate}, rounded, in run order. */
        List<Double> overheads(final String rate) {
            final List<Double> out = new ArrayList<>();
            for (int i = 0; i < engine.size(); i++) {
                out.add(round(1 - app.get(i).get(rate).asDouble() / engine.get(i).get(rate).asDouble()));
            }
            return out;
        }

        /** The median of {@link #overheads}. */
        double overhead(final String rate) {
            return median(overheads(rate));
        }

        JsonNode medianEngine() {
            return medianBy(engine, "events_per_s_second_half");
        }

        JsonNode medianApp() {
            return medianBy(app, "events_per_s_second_half");
        }

        private static JsonNode medianBy(final List<JsonNode> runs, final String field) {
            final List<JsonNode> sorted = new ArrayList<>(runs);
            sorted.sort(java.util.Comparator.comparingDouble(r -> r.get(field).asDouble()));
            return sorted.get(sorted.size() / 2);
        }

        private static double median(final List<Double> values) {
            final List<Double> sorted = new ArrayList<>(values);
            java.util.Collections.sort(sorted);
            final int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : round((sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2);
        }
    }

    /** {@link #REPEATS} pairs of an engine run and an app run, in turns. */
    private static Pairs pairs(final List<String> engine, final List<String> app)
            throws IOException, InterruptedException {
        final List<JsonNode> engines = new ArrayList<>();
        final List<JsonNode> apps = new ArrayList<>();
        for (int i = 0; i < REPEATS; i++) {
            engines.add(child(engine));
            apps.add(child(live(engines.get(i), app)));
        }
        return new Pairs(engines, apps);
    }

    /** Runs a child to completion; its stderr passes through; returns its RESULT line. */
    private static JsonNode child(final List<String> command) throws IOException, InterruptedException {
        final int main = command.indexOf(RealDataBenchmark.class.getName());
        // a Java child by its arguments and the settings it was given, a Python one by its script and arguments
        System.err.println("realdata: running " + String.join(" ", command.subList(main >= 0 ? main + 1 : 1,
                command.size())) + command.stream().filter(a -> a.startsWith("-Drealdata.") && !a.startsWith("-Drealdata.command="))
                .map(a -> a.substring(2)).reduce((a, b) -> a + ", " + b).map(a -> " (" + a + ")").orElse(""));
        final long started = System.nanoTime();
        final Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        JsonNode result = null;
        String unavailable = null;
        final StringBuilder tail = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith(RESULT)) {
                    result = JSON.readTree(line.substring(RESULT.length()));
                } else if (line.startsWith(UNAVAILABLE)) {
                    unavailable = line.substring(UNAVAILABLE.length());
                } else if (line.startsWith("{")) {
                    result = JSON.readTree(line);
                } else {
                    tail.append(line).append('\n');
                }
            }
        }
        final int exit = p.waitFor();
        System.err.printf(Locale.ROOT, "realdata: took %.0f s%n", (System.nanoTime() - started) / 1e9);
        if (unavailable != null) {
            throw new IllegalStateException(unavailable);
        }
        if (exit != 0 || result == null) {
            throw new IllegalStateException("exit " + exit + ": " + tail.toString().strip().lines()
                    .reduce((a, b) -> b).orElse("no output"));
        }
        return result;
    }

    private static double round(final double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    private static long mb(final long bytes) {
        return Math.round(bytes / (1024.0 * 1024.0));
    }

    private static String machine() {
        String cpu = "CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (final IOException ignored) {
            // keep the generic name
        }
        return String.format(Locale.ROOT, "CPU: %s, %d cores, %d GiB; child JVMs -Xmx1g", cpu,
                Runtime.getRuntime().availableProcessors(),
                Math.round(((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                        .getOperatingSystemMXBean()).getTotalMemorySize() / (1024.0 * 1024 * 1024)));
    }
}
