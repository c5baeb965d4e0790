package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** docker/compose.yaml is valid Compose, and the app command it runs is one the CLI accepts. */
class DockerComposeTest {
    private static final Path COMPOSE = Path.of("..", "docker", "compose.yaml").toAbsolutePath().normalize();

    @Test
    void composeFileIsValid() throws Exception {
        final List<String> command = composeCommand();
        assumeTrue(!command.isEmpty(), "compose validation skipped: neither 'docker compose' nor 'docker-compose' "
                + "is installed (Debian package docker-compose)");
        command.addAll(List.of("-f", COMPOSE.toString(), "config", "-q"));
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
    }

    @Test
    void theAppServiceRunsACommandTheCliAccepts() throws Exception {
        final String yaml = Files.readString(COMPOSE);
        final Matcher block = Pattern.compile("(?s)  spillway:.*?command:\\n((?:      - [^\\n]*\\n)+)").matcher(yaml);
        assertThat(block.find()).as("compose.yaml has a spillway service with a command list").isTrue();
        final List<String> args = new ArrayList<>();
        for (final String line : block.group(1).split("\n")) {
            args.add(line.replaceFirst("^\\s*- ", "").trim());
        }
        assertThat(args.get(0)).isEqualTo("run");
        final CommandLine cli = new CommandLine(new SpillwayCli());
        final CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
        assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("run");
        final RunCommand run = parsed.subcommand().commandSpec().commandLine().getCommand();
        assertThat(run.bootstrapServers).isEqualTo("kafka:29092");
        assertThat(run.options.opsHost).isEqualTo("0.0.0.0");
        // beyond loopback the endpoint needs a token or this explicit choice, else the app refuses to start
        assertThat(run.options.opsAllowUnauthenticated).isTrue();
        assertThat(run.options.toConfig("kafka:29092", "http://schema-registry:8081").opsAuth().openByChoice()).isTrue();
    }

    private static List<String> composeCommand() throws Exception {
        for (final List<String> candidate : List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
            try {
                final List<String> probe = new ArrayList<>(candidate);
                probe.add("version");
                final Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return new ArrayList<>(candidate);
                }
            } catch (final java.io.IOException notInstalled) {
                // try the next one
            }
        }
        return new ArrayList<>();
    }
}
