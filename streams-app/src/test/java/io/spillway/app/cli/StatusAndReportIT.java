package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.it.RunningApp;
import io.spillway.app.it.TestApps;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status and report commands read a training app's metrics topic on a real broker. */
class StatusAndReportIT {
    @TempDir
    Path dir;

    @Test
    void statusSummarisesAndReportRendersTheRun() throws Exception {
        try (RunningApp running = RunningApp.start(dir.resolve("app"), 3_000)) {
            TestApps.await("a few training steps", Duration.ofSeconds(60), () -> running.app().trainer().steps() >= 8);
            final String bootstrap = running.bootstrapServers();
            final String registry = running.registryUrl();
            final PrintStream original = System.out;
            final ByteArrayOutputStream captured = new ByteArrayOutputStream();
            final int status;
            try {
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                status = SpillwayCli.execute("status", "--bootstrap-servers=" + bootstrap,
                        "--schema-registry-url=" + registry);
            } finally {
                System.setOut(original);
            }
            final String text = captured.toString(StandardCharsets.UTF_8);
            assertThat(status).as(text).isZero();
            assertThat(text).contains("model it-model", "backend cpu", "loss ", "events trained", "memory ");
            final Path out = dir.resolve("report");
            assertThat(SpillwayCli.execute("report", "--bootstrap-servers=" + bootstrap,
                    "--schema-registry-url=" + registry, "--out=" + out)).isZero();
            assertThat(out.resolve("loss.svg")).exists();
            assertThat(Files.readString(out.resolve("loss.svg"))).contains("<polyline");
        }
    }
}
