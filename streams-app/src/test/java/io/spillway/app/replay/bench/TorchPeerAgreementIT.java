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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch peer of the realdata benchmark is the same model and training loop as Spillway's learner: on
 * the same batches from the same initial parameters, the first step's loss (untrained) agrees to float
 * rounding, and the whole prequential run closely (spike thresholds amplify rounding over many steps).
 * Skipped where Debian's python3-torch is not installed.
 */
class TorchPeerAgreementIT {

    static Path script() {
        final Path fromModule = Path.of("..", "bench", "realdata_torch.py");
        return Files.exists(fromModule) ? fromModule : Path.of("bench", "realdata_torch.py");
    }

    static boolean torchAvailable() {
        try {
            final Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (final Exception e) {
            return false;
        }
    }

    @Test
    void peerTrainsTheSameModel(@TempDir final Path dir) throws Exception {
        assumePeer(torchAvailable(), "Debian python3-torch is not installed: the PyTorch agreement check needs it");
        final SparseVector none = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
        final SplittableRandom rnd = new SplittableRandom(9);
        final List<Event> events = new ArrayList<>();
        final int[] position = new int[6];
        for (int i = 0; i < 3_000; i++) {
            final int k = rnd.nextInt(6);
            final int type = rnd.nextDouble() < 0.2 ? rnd.nextInt(10) : (position[k]++ * (k + 1)) % 10;
            events.add(Event.newBuilder().setEntityId("k" + k).setTimestampMs(i).setEventType(type).setFeatures(none).build());
        }
        final LearnerConfig config = LearnerConfig.builder().cell("lif").vocabularySize(10).featureDimension(0)
                .hiddenSize(24)
                .optimizer("adam").learningRate(0.01f).backend("cpu").seed(5).build();
        final PrequentialEvaluation.Result java;
        try (Learner learner = Learners.create(config);
             ScheduleFiles.ScheduleWriter w = new ScheduleFiles.ScheduleWriter(dir.resolve("schedule.bin"), 10)) {
            ScheduleFiles.writeParameters(dir.resolve("params.bin"), learner.parameters());
            java = new PrequentialEvaluation(16, 4).run(learner, events.iterator(), 0, w::write);
        }
        final Process p = new ProcessBuilder("/usr/bin/python3", script().toString(), "--schedule",
                dir.resolve("schedule.bin").toString(), "--params", dir.resolve("params.bin").toString(), "--hidden", "24",
                "--lr", "0.01", "--threads", "1").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        final JsonNode torch = new ObjectMapper().readTree(out.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(torch.get("targets").asLong()).isEqualTo(java.targets());
        assertThat(torch.get("steps").asLong()).isEqualTo(java.steps());
        assertThat(torch.get("first_step_loss_nats").asDouble()).isCloseTo(java.firstStepLossNats(),
                org.assertj.core.data.Offset.offset(1e-5));
        assertThat(torch.get("loss_nats").asDouble()).isCloseTo(java.meanLossNats(),
                org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(torch.get("accuracy").asDouble()).isCloseTo(java.accuracy(), org.assertj.core.data.Offset.offset(0.02));
    }
}
