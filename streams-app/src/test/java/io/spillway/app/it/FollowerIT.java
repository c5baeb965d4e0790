package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.app.follower.ModelFollower;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read-only follower rebuilds the model from the snapshot a first run left and the deltas a second run
 * publishes, and ends with the trainer's weights (deltas are fp32 differences, so to rounding).
 */
class FollowerIT {
    @TempDir
    Path dir;

    @Test
    void followerEndsWithTheTrainersWeights() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig config = TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8);
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 31);
            try (SpillwayApp first = SpillwayApp.start(config)) {
                TestApps.produce(kafka.bootstrapServers(), url, generator, 1_024);
                TestApps.await("first run trained", Duration.ofSeconds(90), () -> first.trainer().eventsTrained() == 1_024);
            }
            final Map<String, Object> client = Map.of("bootstrap.servers", kafka.bootstrapServers());
            final Map<String, float[]> trained;
            final long finalVersion;
            try (ModelFollower follower = ModelFollower.start(client, url, Map.of(), config.topics(),
                    config.trainer().modelId(), config.learner())) {
                final long snapshotVersion = follower.version();
                assertThat(snapshotVersion).isPositive();
                try (SpillwayApp second = SpillwayApp.start(config)) {
                    TestApps.produce(kafka.bootstrapServers(), url, generator, 1_024);
                    TestApps.await("second run trained", Duration.ofSeconds(90),
                            () -> second.trainer().eventsTrained() == 1_024);
                    TestApps.await("its deltas published", Duration.ofSeconds(30), () -> {
                        follower.poll(Duration.ofMillis(200));
                        return follower.version() == second.learner().version();
                    });
                    trained = second.learner().parameters();
                    finalVersion = second.learner().version();
                }
                assertThat(finalVersion).isGreaterThan(snapshotVersion);
                assertThat(follower.deltasApplied()).isPositive();
                final Map<String, float[]> replica = follower.parameters();
                for (final Map.Entry<String, float[]> e : trained.entrySet()) {
                    final float[] r = replica.get(e.getKey());
                    for (int i = 0; i < r.length; i++) {
                        assertThat((double) r[i]).as(e.getKey() + "[" + i + "]")
                                .isCloseTo(e.getValue()[i], org.assertj.core.data.Offset.offset(1e-4));
                    }
                }
            }
        }
    }
}
