package io.spillway.app.replay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.app.replay.PrequentialEvaluation;
import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import io.spillway.engine.Learners;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch twin of Spillway's EGRU ({@code bench/realdata_torch.py --model egru}) is the same model and training
 * loop: on the batches a Spillway run trained, from its initial parameters, the first step's loss (untrained, a
 * forward pass) agrees to fp32 rounding and the next steps' losses and activities stay close. Two layers, so the
 * inter-layer events and the readout over all layers are in it. Skipped where /usr/bin/python3 has no torch,
 * except on CI ({@code CI=true}), where that fails.
 */
class TorchEgruTwinIT {
    /**
     * Relative tolerance of the first step's loss. Both sides compute in fp32 with different summation orders (the
     * engine gathers the rows of emitting units in id order, PyTorch runs dense products) and the engine's sigmoid
     * and tanh go through double: the loss differs by a few ulps of its terms (1e-9 relative here). A unit whose cell
     * state lies within those ulps of its threshold would emit on one side only and move the loss by more; the
     * tolerance leaves room for a few such units, while a changed equation moves it by 1e-3 and more.
     */
    static final double FIRST_STEP_RELATIVE = 1e-4;
    /**
     * Relative tolerance of each of the next {@link #STEPS} steps' losses: the same, as the rounding differences of
     * the gradients reach the weights (1e-7 relative here; Adam's first steps move a weight by about the learning
     * rate whatever its gradient's size, so a gradient whose sign rounding decides would show).
     */
    static final double NEXT_STEPS_RELATIVE = 1e-4;
    static final int STEPS = 12;
    /**
     * Absolute tolerance of a step's activity (its fraction of unit updates that emitted): a couple of the step's
     * unit updates (several thousand) may fall on the other side of their threshold.
     */
    static final double ACTIVITY = 1e-3;

    static void requireTorch() {
        assumePeer(TorchPeerAgreementIT.torchAvailable(),
                "/usr/bin/python3 has no torch (Debian python3-torch): the EGRU twin check needs it");
    }

    /**
     * The defaults: Adam at 0.04, clip 0.3, thresholds around 0.2 frozen, kappa 2, activity 0.15 at lambda 1, the
     * cell-state readout. The candidate bias (-0.5) keeps the untrained first window silent (no unit emits), so the
     * first steps check the gates, the readout and the regulariser's push; events (and with them the recurrence
     * through them and the reset) come in from the fourth step on, which the later steps check.
     */
    @Test
    void twinTrainsTheDefaultCell(@TempDir final Path dir) throws Exception {
        final LearnerConfig config = LearnerConfig.builder().cell("egru").vocabularySize(10).featureDimension(0)
                .hiddenSize(24).layers(2).backend("cpu").seed(5).build();
        final Agreement a = agreement(config, 11, dir);
        assertThat(a.engineActivities.getFirst()).as("the defaults' first window is silent").isZero();
        assertThat(a.engineActivities.subList(3, STEPS)).as("events from the fourth step on")
                .allSatisfy(x -> assertThat(x).isPositive());
    }

    /**
     * Units emitting from the first step (candidate bias +0.5), learned thresholds, the event readout and another
     * kappa and target: the first step's loss then goes through the events, the subtractive reset and the layer
     * above reading the graded events of the one below, and the threshold gradient (with its reset term) and the
     * clamp to [0, 1] shape the later steps.
     */
    @Test
    void twinTrainsACellThatEmitsFromTheStart(@TempDir final Path dir) throws Exception {
        final LearnerConfig config = LearnerConfig.builder().cell("egru").vocabularySize(10).featureDimension(0)
                .hiddenSize(24).layers(2).optimizer("adam").backend("cpu").seed(7).candidateBias(0.5f)
                .readout("events").learnThresholds(true).pseudoDerivativeScale(3f).activityTarget(0.25f).build();
        final Agreement a = agreement(config, 13, dir);
        assertThat(a.engineActivities.getFirst()).as("units emit in the first window").isGreaterThan(0.05);
    }

    private record Agreement(List<Double> engineActivities) {
    }

    /** Trains {@code config} on a small stream, runs the twin on its schedule and asserts they agree. */
    private static Agreement agreement(final LearnerConfig config, final long streamSeed, final Path dir)
            throws Exception {
        requireTorch();
        final int vocabulary = config.vocabularySize();
        final SparseVector none = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
        final SplittableRandom rnd = new SplittableRandom(streamSeed);
        final List<Event> events = new ArrayList<>();
        final int[] position = new int[6];
        for (int i = 0; i < 3_000; i++) {
            final int k = rnd.nextInt(6);
            final int type = rnd.nextDouble() < 0.2 ? rnd.nextInt(vocabulary) : (position[k]++ * (k + 1)) % vocabulary;
            events.add(Event.newBuilder().setEntityId("k" + k).setTimestampMs(i).setEventType(type).setFeatures(none).build());
        }
        final StepRecorder steps = new StepRecorder();
        final PrequentialEvaluation.Result engine;
        try (Learner learner = steps.wrap(Learners.create(config));
             ScheduleFiles.ScheduleWriter w = new ScheduleFiles.ScheduleWriter(dir.resolve("schedule.bin"),
                     vocabulary)) {
            ScheduleFiles.writeParameters(dir.resolve("params.bin"), learner.parameters());
            engine = new PrequentialEvaluation(16, 4).run(learner, events.iterator(), 0, w::write);
        }
        final List<String> command = new ArrayList<>(List.of("/usr/bin/python3", TorchPeerAgreementIT.script()
                .toString(), "--model", "egru", "--schedule", dir.resolve("schedule.bin").toString(), "--params",
                dir.resolve("params.bin").toString(), "--threads", "1", "--record-steps", String.valueOf(STEPS),
                "--check-batching", "4"));
        command.addAll(TorchEgruTwin.arguments(config));
        final Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        final JsonNode torch = new ObjectMapper().readTree(out.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(torch.get("model").asText()).isEqualTo("egru");
        assertThat(torch.get("lr").asDouble()).isCloseTo(config.learningRate(), Offset.offset(1e-6));
        assertThat(torch.get("clip").asDouble()).isCloseTo(config.gradientClip(), Offset.offset(1e-6));
        assertThat(torch.get("targets").asLong()).isEqualTo(engine.targets());
        assertThat(torch.get("steps").asLong()).isEqualTo(engine.steps());
        assertThat(torch.get("first_step_loss_nats").asDouble()).isCloseTo(engine.firstStepLossNats(),
                Percentage.withPercentage(100 * FIRST_STEP_RELATIVE));
        final List<Double> engineLosses = steps.stepLosses();
        final List<Double> engineActivities = steps.stepActivities();
        final JsonNode twinLosses = torch.get("step_losses_nats");
        final JsonNode twinActivities = torch.get("step_activities");
        assertThat(twinLosses).hasSize(STEPS);
        assertThat(engineLosses).hasSizeGreaterThanOrEqualTo(STEPS);
        assertThat(engineLosses.getFirst()).isEqualTo(engine.firstStepLossNats());
        for (int s = 0; s < STEPS; s++) {
            assertThat(twinLosses.get(s).asDouble()).as("loss of step %d", s).isCloseTo(engineLosses.get(s),
                    Percentage.withPercentage(100 * (s == 0 ? FIRST_STEP_RELATIVE : NEXT_STEPS_RELATIVE)));
            assertThat(twinActivities.get(s).asDouble()).as("activity of step %d", s)
                    .isCloseTo(engineActivities.get(s), Offset.offset(ACTIVITY));
        }
        // the learning moves the losses: agreeing on later steps is not agreeing on the first step again
        assertThat(Math.abs(engineLosses.get(STEPS - 1) - engineLosses.getFirst())).isGreaterThan(0.05);
        // the whole run (about 49 steps): close, with room for rounding amplified through threshold crossings (1e-7
        // relative here)
        assertThat(torch.get("loss_nats").asDouble()).isCloseTo(engine.meanLossNats(), Percentage.withPercentage(0.1));
        assertThat(torch.get("activity").asDouble()).isCloseTo(engine.activity(), Offset.offset(0.002));
        // padded batches (the end-of-stream chunks are shorter) equal each sequence run alone
        assertThat(torch.get("batching_checked_batches").asInt()).isPositive();
        assertThat(torch.get("batching_max_abs_diff").asDouble()).isLessThan(1e-5);
        return new Agreement(engineActivities);
    }
}
