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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch GRU peer of the realdata benchmark ({@code bench/realdata_torch.py --model gru}) on a small schedule
 * exported from a Spillway run: it trains exactly the schedule's targets and steps, each grid point gives finite
 * bits/event that beat the uniform code on a learnable stream, and its padded batches (chunks of unequal length)
 * equal each sequence run alone. Skipped where Debian's python3-torch is not installed.
 */
class TorchGruPeerIT {

    @Test
    void gruPeerTrainsTheExportedScheduleWithItsLearningRateGrid(@TempDir final Path dir) throws Exception {
        assumePeer(TorchPeerAgreementIT.torchAvailable(),
                "Debian python3-torch is not installed: the PyTorch GRU peer check needs it");
        final SparseVector none = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
        final SplittableRandom rnd = new SplittableRandom(4);
        final List<Event> events = new ArrayList<>();
        final int[] position = new int[5];
        for (int i = 0; i < 2_000; i++) {
            final int k = rnd.nextInt(5);
            final int type = rnd.nextDouble() < 0.1 ? rnd.nextInt(8) : (position[k]++ * (k + 1)) % 8;
            events.add(Event.newBuilder().setEntityId("k" + k).setTimestampMs(i).setEventType(type).setFeatures(none).build());
        }
        final LearnerConfig config = LearnerConfig.builder().vocabularySize(8).featureDimension(0).hiddenSize(8)
                .optimizer("adam").learningRate(0.01f).backend("cpu").seed(3).build();
        final PrequentialEvaluation.Result java;
        try (Learner learner = Learners.create(config);
             ScheduleFiles.ScheduleWriter w = new ScheduleFiles.ScheduleWriter(dir.resolve("schedule.bin"), 8)) {
            java = new PrequentialEvaluation(16, 4).run(learner, events.iterator(), 0, w::write);
        }
        final Process p = new ProcessBuilder("/usr/bin/python3", TorchPeerAgreementIT.script().toString(), "--model",
                "gru", "--schedule", dir.resolve("schedule.bin").toString(), "--hidden", "16", "--lr", "0.01,0.03",
                "--threads", "1", "--check-batching", "8").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        final JsonNode gru = new ObjectMapper().readTree(out.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(gru.get("model").asText()).isEqualTo("gru");
        assertThat(gru.get("targets").asLong()).isEqualTo(java.targets());
        assertThat(gru.get("steps").asLong()).isEqualTo(java.steps());
        assertThat(gru.get("grid")).hasSize(2);
        final double uniformBits = Math.log(8) / Math.log(2); // 3 bits; the GRU reaches about 2.4 here
        for (final JsonNode point : gru.get("grid")) {
            assertThat(point.get("bits_per_event").asDouble()).as("lr %s", point.get("lr")).isFinite()
                    .isPositive().isLessThan(uniformBits - 0.25);
            assertThat(point.get("events_per_s").asDouble()).isPositive();
            // the end-of-stream chunks are shorter than the rest: their batches were compared with each sequence alone
            assertThat(point.get("batching_checked_batches").asInt()).isPositive();
            assertThat(point.get("batching_max_abs_diff").asDouble()).isLessThan(1e-5);
        }
        final double best = Math.min(gru.get("grid").get(0).get("bits_per_event").asDouble(),
                gru.get("grid").get(1).get("bits_per_event").asDouble());
        assertThat(gru.get("bits_per_event").asDouble()).isEqualTo(best);
        assertThat(gru.get("threads").asInt()).isEqualTo(1);
    }
}
