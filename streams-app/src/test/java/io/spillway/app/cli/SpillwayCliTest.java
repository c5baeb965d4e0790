package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SpillwayCliTest {
    private static final String[] CLUSTER = {"--bootstrap-servers=x:1", "--schema-registry-url=http://r"};

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
    void everyCommandOnAClusterTakesTheSameClusterOptionsAndChecksTheRegistryUrl() {
        for (final String command : new String[] {"run", "serve", "follow", "status", "report"}) {
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final CommandLine cli = new CommandLine(new SpillwayCli());
            cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
            assertThat(cli.execute(command)).as(command).isEqualTo(2);
            assertThat(err.toString(StandardCharsets.UTF_8)).as(command).contains("--bootstrap-servers")
                    .contains("--schema-registry-url");
            err.reset();
            assertThat(cli.execute(command, "--bootstrap-servers=x:1", "--schema-registry-url=registry:8081"))
                    .as(command).isEqualTo(2);
            assertThat(err.toString(StandardCharsets.UTF_8)).as(command)
                    .contains("--schema-registry-url must be an http or https URL: registry:8081");
        }
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("follow", CLUSTER[0], CLUSTER[1], "--for=soon")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("'soon' needs a unit");
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
    void aValueAnOptionDoesNotAllowIsAUsageErrorNamingTheOptionAndWhatItAllows() {
        final String[][] cases = {
            {"--partitions=0", "Invalid value for option '--partitions': '0' is not allowed (allowed: at least 1)"},
            {"--batch-keys=many", "Invalid value for option '--batch-keys': 'many' is not an integer (allowed: at least 1)"},
            {"--ops-port=70000", "Invalid value for option '--ops-port': '70000' is not allowed (allowed: from -1 to 65535)"},
            {"--processing-guarantee=exactly_once",
                "'--processing-guarantee': 'exactly_once' is not one of exactly_once_v2, at_least_once"},
            {"--delta-density=1.5", "'--delta-density': '1.5' is not allowed (allowed: above 0, at most 1)"},
            {"--max-chunk-wait=2s", "'--max-chunk-wait': '2s' is not an ISO-8601 duration; use e.g. PT2S, PT5M or P1D "
                + "(allowed: zero or longer)"},
            {"--allow-config-change=maybe", "'--allow-config-change': 'maybe' is not true or false"},
        };
        // every command with the shared options refuses them the same way, before starting anything (demo included)
        for (final String command : new String[] {"run", "demo", "serve", "follow"}) {
            for (final String[] c : cases) {
                final ByteArrayOutputStream err = new ByteArrayOutputStream();
                final CommandLine cli = new CommandLine(new SpillwayCli());
                cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
                final int code = command.equals("demo") ? cli.execute(command, c[0])
                        : cli.execute(command, CLUSTER[0], CLUSTER[1], c[0]);
                assertThat(code).as(command + " " + c[0]).isEqualTo(2);
                assertThat(err.toString(StandardCharsets.UTF_8)).as(command + " " + c[0]).contains(c[1])
                        .contains("Usage: spillway " + command).doesNotContain("\tat ");
            }
        }
    }

    @Test
    void theHelpOfAnOptionSaysItsDefaultAndWhatItAllows() {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setOut(new java.io.PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("run", "--help")).isZero();
        final String help = out.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        assertThat(help).contains("--partitions=<partitions> Partitions of topics created when missing (default: 4; "
                + "at least 1).");
        assertThat(help).contains("--device-memory=<deviceMemory> Device memory budget of the learner "
                + "(docs/learner-lif.md) (default: 512MiB; bytes, or with a unit: 512KiB, 64MiB, 2GiB; at least 1).");
        assertThat(help).contains("(default: host name and process id; not empty).");
    }

    @Test
    void theCellAndItsKnobsReachTheLearnerConfig() {
        final RunCommand byDefault = new RunCommand();
        new CommandLine(byDefault).parseArgs(CLUSTER);
        final io.spillway.engine.LearnerConfig defaults = byDefault.options.toConfig("x:1", "http://r").learner();
        assertThat(defaults.cell()).isEqualTo(io.spillway.engine.LearnerConfig.DEFAULT_CELL);
        assertThat(defaults.activityTarget()).isEqualTo(io.spillway.engine.LearnerConfig.DEFAULT_ACTIVITY_TARGET);
        final RunCommand set = new RunCommand();
        new CommandLine(set).parseArgs(CLUSTER[0], CLUSTER[1], "--cell=egru", "--activity-target=0.1",
                "--activity-regularization=0.5", "--threshold-mean=0.2", "--readout=events", "--gradient-clip=2");
        final io.spillway.engine.LearnerConfig egru = set.options.toConfig("x:1", "http://r").learner();
        assertThat(egru.cell()).isEqualTo("egru");
        assertThat(egru.activityTarget()).isEqualTo(0.1f);
        assertThat(egru.activityRegularization()).isEqualTo(0.5f);
        assertThat(egru.thresholdMean()).isEqualTo(0.2f);
        assertThat(egru.readout()).isEqualTo("events");
        assertThat(egru.gradientClip()).isEqualTo(2f);
        final RunCommand lif = new RunCommand();
        new CommandLine(lif).parseArgs(CLUSTER[0], CLUSTER[1], "--cell=lif");
        assertThat(lif.options.toConfig("x:1", "http://r").learner().gradientClip()).isZero();
        assertThatThrownBy(() -> new CommandLine(new RunCommand()).parseArgs(CLUSTER[0], CLUSTER[1], "--cell=lstm"))
                .hasMessageContaining("--cell").hasMessageContaining("'lstm' is not one of lif, egru");
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
        assertThatThrownBy(() -> new CommandLine(new RunCommand()).parseArgs(CLUSTER[0], CLUSTER[1], "--warm-up=PT-1S"))
                .hasMessageContaining("--warm-up").hasMessageContaining("'PT-1S' is not allowed (allowed: ISO-8601");
    }

    @Test
    void everyCommandHasHelp() {
        for (final String command : new String[] {"demo", "run", "status", "report", "serve", "follow"}) {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final CommandLine cli = new CommandLine(new SpillwayCli());
            cli.setOut(new java.io.PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
            assertThat(cli.execute(command, "--help")).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: spillway " + command);
        }
    }

    @Test
    void demoDurationsParseWithUnitsAndRejectNonsense() {
        final DurationConverter c = new DurationConverter();
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

    @Test
    void anOpsEndpointBeyondLoopbackWithoutATokenIsAUsageErrorBeforeAnythingStarts() {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final CommandLine cli = new CommandLine(new SpillwayCli());
        cli.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        final long t0 = System.nanoTime();
        assertThat(cli.execute("run", CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("beyond loopback").contains("--ops-auth-token-file")
                .contains("--ops-allow-unauthenticated").doesNotContain("\tat ");
        assertThat(System.nanoTime() - t0).as("no broker contacted, no warm-up").isLessThan(10_000_000_000L);
        assertThat(cli.execute("demo", "--ops-host=0.0.0.0")).isEqualTo(2);
        final RunCommand open = new RunCommand();
        new CommandLine(open).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0", "--ops-allow-unauthenticated");
        assertThat(open.options.toConfig("x:1", "http://r").opsAuth().openByChoice()).isTrue();
        final RunCommand openByVariable = new RunCommand();
        new CommandLine(openByVariable).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0",
                "--ops-allow-unauthenticated=true");
        assertThat(openByVariable.options.toConfig("x:1", "http://r").opsAuth().openByChoice()).isTrue();
        final RunCommand off = new RunCommand();
        new CommandLine(off).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0", "--ops-port=-1");
        assertThat(off.options.toConfig("x:1", "http://r").opsAuth().required()).isFalse();
    }

    @Test
    void theOpsTokenComesFromAFileOrTheConfigPropertiesAndNeverReachesKafka(@TempDir final Path dir) throws Exception {
        final String token = "ops-token-0123456789abcdef";
        final Path tokenFile = Files.writeString(dir.resolve("ops.token"), token + "\n");
        final RunCommand fromFile = new RunCommand();
        new CommandLine(fromFile).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0",
                "--ops-auth-token-file=" + tokenFile);
        assertThat(fromFile.options.toConfig("x:1", "http://r").opsAuth().permits("Bearer " + token)).isTrue();

        final Path config = Files.writeString(dir.resolve("app.properties"),
                "security.protocol=SASL_SSL\nspillway.ops.auth.token=" + token + "\nbasic.auth.user.info=u:p\n");
        final RunCommand fromConfig = new RunCommand();
        new CommandLine(fromConfig).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-host=0.0.0.0", "--config=" + config);
        final io.spillway.app.AppConfig c = fromConfig.options.toConfig("x:1", "http://r");
        assertThat(c.opsAuth().permits("Bearer " + token)).isTrue();
        assertThat(c.kafkaOverrides()).containsOnlyKeys("security.protocol");
        assertThat(c.registryOverrides()).containsOnlyKeys("basic.auth.user.info");
        assertThat(c.toString()).doesNotContain(token).doesNotContain("u:p").contains("basic.auth.user.info");

        final RunCommand both = new RunCommand();
        new CommandLine(both).parseArgs(CLUSTER[0], CLUSTER[1], "--config=" + config, "--ops-auth-token-file=" + tokenFile);
        assertThatThrownBy(() -> both.options.toConfig("x:1", "http://r")).hasMessageContaining("given twice");
        final RunCommand contradictory = new RunCommand();
        new CommandLine(contradictory).parseArgs(CLUSTER[0], CLUSTER[1], "--ops-auth-token-file=" + tokenFile,
                "--ops-allow-unauthenticated");
        assertThatThrownBy(() -> contradictory.options.toConfig("x:1", "http://r")).hasMessageContaining("contradicts");
        final RunCommand weak = new RunCommand();
        new CommandLine(weak).parseArgs(CLUSTER[0], CLUSTER[1],
                "--ops-auth-token-file=" + Files.writeString(dir.resolve("weak.token"), "short"));
        assertThatThrownBy(() -> weak.options.toConfig("x:1", "http://r")).hasMessageContaining("at least 16");
    }

    @Test
    void valueFormatsAndTheMappingFileReachTheConfigAndABadOneStopsTheStart(@TempDir final Path dir) throws Exception {
        final RunCommand byDefault = new RunCommand();
        new CommandLine(byDefault).parseArgs(CLUSTER);
        final io.spillway.app.Formats defaults = byDefault.options.toConfig("x:1", "http://r").formats();
        assertThat(defaults.inputValues()).isEqualTo(io.spillway.app.topology.ValueFormat.AUTO);
        assertThat(defaults.mapping()).isNull();
        final Path mapping = Files.writeString(dir.resolve("clicks.mapping"), "time=at\ntype=page\ntype.vocabulary=hash\n");
        final RunCommand mapped = new RunCommand();
        new CommandLine(mapped).parseArgs(CLUSTER[0], CLUSTER[1], "--value-format=JSON", "--mapping=" + mapping);
        final io.spillway.app.Formats formats = mapped.options.toConfig("x:1", "http://r").formats();
        assertThat(formats.inputValues()).isEqualTo(io.spillway.app.topology.ValueFormat.JSON);
        assertThat(formats.mapping()).hasToString("entity=$key, time=at, type=page");
        final RunCommand eventOnly = new RunCommand();
        new CommandLine(eventOnly).parseArgs(CLUSTER[0], CLUSTER[1], "--value-format=event", "--mapping=" + mapping);
        assertThatThrownBy(() -> eventOnly.options.toConfig("x:1", "http://r")).hasMessageContaining("not event");
        final RunCommand dictionary = new RunCommand();
        new CommandLine(dictionary).parseArgs(CLUSTER[0], CLUSTER[1], "--mapping="
                + Files.writeString(dir.resolve("dict.mapping"), "type=page\ntype.vocabulary=dictionary\n"));
        assertThat(dictionary.options.toConfig("x:1", "http://r").formats().mapping().usesDictionary()).isTrue();
        final RunCommand missing = new RunCommand();
        new CommandLine(missing).parseArgs(CLUSTER[0], CLUSTER[1], "--mapping=" + dir.resolve("none.mapping"));
        assertThatThrownBy(() -> missing.options.toConfig("x:1", "http://r")).hasMessageContaining("cannot read --mapping");
        assertThatThrownBy(() -> new CommandLine(new RunCommand()).parseArgs(CLUSTER[0], CLUSTER[1], "--value-format=xml"))
                .hasMessageContaining("'xml' is not one of auto, event, avro, json");
    }
}
