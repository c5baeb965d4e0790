package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.AppConfig;
import io.spillway.app.SpillwayApp;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean stop publishes a snapshot; a restart restores it (same weights, optimizer state, carried per-key
 * states, version) and continues with the input offsets Kafka Streams committed: nothing is trained twice.
 */
class RestartFromSnapshotIT {
    @TempDir
    Path dir;

    @Test
    void aRestartContinuesFromTheSnapshotWithoutRetraining() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"))) {
            final String url = registry.url().toString();
            final AppConfig config = TestApps.config(kafka.bootstrapServers(), url, dir.resolve("state"), 8);
            final SequenceGenerator generator = new SequenceGenerator(16, 8, 16, 0.05, 21);
            final Map<String, float[]> before;
            final long version;
            try (SpillwayApp first = SpillwayApp.start(config)) {
                TestApps.produce(kafka.bootstrapServers(), url, generator, 2_048);
                TestApps.await("the first batch trained", Duration.ofSeconds(90),
                        () -> first.trainer().eventsTrained() == 2_048);
                before = first.learner().parameters();
                version = first.learner().version();
            }
            assertThat(version).isPositive();
            try (SpillwayApp second = SpillwayApp.start(config)) {
                assertThat(second.learner().version()).isEqualTo(version);
                final Map<String, float[]> restored = second.learner().parameters();
                for (final Map.Entry<String, float[]> e : before.entrySet()) {
                    assertThat(restored.get(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
                }
                TestApps.produce(kafka.bootstrapServers(), url, generator, 1_024);
                TestApps.await("the second batch trained", Duration.ofSeconds(90),
                        () -> second.trainer().eventsTrained() >= 1_024);
                Thread.sleep(1_500); // anything retrained from before the restart would show up by now
                assertThat(second.trainer().eventsTrained()).isEqualTo(1_024);
                assertThat(second.counters().consumed()).isEqualTo(1_024);
                assertThat(second.learner().version()).isGreaterThan(version);
            }
            // provenance: another learning rate stops the start, naming it; with the override the model restores
            final AppConfig otherRate = config.withLearner(config.learner().toBuilder()
                    .learningRate(config.learner().learningRate() * 2).build());
            assertThatThrownBy(() -> SpillwayApp.start(otherRate)).hasMessageContaining("learningRate "
                    + config.learner().learningRate() + " -> " + otherRate.learner().learningRate())
                    .hasMessageContaining("--allow-config-change");
            try (SpillwayApp third = SpillwayApp.start(otherRate.withTrainer(
                    otherRate.trainer().withConfigChangeAllowed(true)))) {
                assertThat(third.learner().version()).isGreaterThan(version);
                assertThat(third.resumedFrom().snapshotVersion()).isGreaterThan(version);
            }
        }
    }
}
