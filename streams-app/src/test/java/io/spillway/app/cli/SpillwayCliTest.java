package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SpillwayCliTest {
    private static final String[] CLUSTER = {"--bootstrap-servers=x:1", "--schema-registry-url=http://r"};

    @Test
    void sizesParseWithBinaryUnits() {
        assertThat(ByteSize.parse("512MiB")).isEqualTo(512L << 20);
        assertThat(ByteSize.parse("2g")).isEqualTo(2L << 30);
        assertThat(ByteSize.parse("4096")).isEqualTo(4096);
        assertThatThrownBy(() -> ByteSize.parse("lots")).hasMessageContaining("not a size");
    }

    @Test
    void runRequiresTheClusterAndRegistry() {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        final int code = cli.execute("run");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--bootstrap-servers").contains("--schema-registry-url");
    }

    @Test
    void badOptionValuesGiveAClearErrorNotAStackTrace() {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        final int code = cli.execute("run", "--bootstrap-servers=x:1", "--schema-registry-url=http://r",
                "--device-memory=plenty");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("'plenty' is not a size");
    }

    @Test
    void theWarmUpDefaultsToFiveSecondsAndCanBeTurnedOff() {
        final RunCommand byDefault = new RunCommand();
        new CommandLine(byDefault).parseArgs(CLUSTER);
        assertThat(byDefault.options.toConfig("x:1", "http://r").trainer().warmUpMs()).isEqualTo(5_000);
        final RunCommand off = new RunCommand();
        new CommandLine(off).parseArgs(CLUSTER[0], CLUSTER[1], "--warm-up=PT0S", "--batch-lookahead=8");
        assertThat(off.options.toConfig("x:1", "http://r").trainer().warmUpMs()).isZero();
        assertThat(off.options.toConfig("x:1", "http://r").trainer().batchLookahead()).isEqualTo(8);
        final RunCommand negative = new RunCommand();
        new CommandLine(negative).parseArgs(CLUSTER[0], CLUSTER[1], "--warm-up=PT-1S");
        assertThatThrownBy(() -> negative.options.toConfig("x:1", "http://r")).hasMessageContaining("warm-up");
    }

    @Test
    void everyCommandHasHelp() {
        for (final String command : new String[] {"demo", "run", "status", "report"}) {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final CommandLine cli = new CommandLine(new SpillwayCli());
            cli.setOut(new java.io.PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
            assertThat(cli.execute(command, "--help")).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: spillway " + command);
        }
    }

    @Test
    void demoDurationsParseWithUnitsAndRejectNonsense() {
        final DemoCommand.DurationConverter c = new DemoCommand.DurationConverter();
        assertThat(c.convert("30s")).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(c.convert("5m")).isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(c.convert("250ms")).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(c.convert("PT1H")).isEqualTo(java.time.Duration.ofHours(1));
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("demo", "--duration=soon")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("'soon'").contains("30s");
        assertThatThrownBy(() -> c.convert("0s")).hasMessageContaining("positive");
    }
}
