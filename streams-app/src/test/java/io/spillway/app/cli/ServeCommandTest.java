package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ServeCommandTest {

    @Test
    void parsesItsOptionsWithTheirDefaults() {
        final ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--bootstrap-servers=x:1", "--schema-registry-url=http://r");
        assertThat(serve.scoreTopic).isNull(); // the events topic
        assertThat(serve.scoresTopic).isEqualTo("scores");
        assertThat(serve.httpHost).isEqualTo("127.0.0.1");
        assertThat(serve.httpPort).isEqualTo(8080);
        assertThat(serve.maxKeys).isEqualTo(100_000);
        assertThat(serve.keyIdleTimeout).isEqualTo(Duration.ofHours(1));
        assertThat(serve.settle).isEqualTo(Duration.ofMillis(100));
        assertThat(serve.topK).isEqualTo(5);
        new CommandLine(serve).parseArgs("--bootstrap-servers=x:1", "--schema-registry-url=http://r",
                "--score-topic=clicks", "--no-scoring", "--max-keys=10", "--key-idle-timeout=PT5M", "--http-port=-1");
        assertThat(serve.scoreTopic).isEqualTo("clicks");
        assertThat(serve.noScoring).isTrue();
        assertThat(serve.maxKeys).isEqualTo(10);
        assertThat(serve.httpPort).isEqualTo(-1);
    }

    @Test
    void requiresTheClusterAndRegistry() {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("serve")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--bootstrap-servers");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        cli.setOut(new PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("serve", "--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--score-topic").contains("--scores-topic")
                .contains("--max-keys").contains("--http-port");
    }
}
