package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.spillway.app.config.AppSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docker/compose.yaml is valid Compose, the app command it runs is one the CLI accepts, and the files it mounts into
 * Prometheus and Grafana (config, alerting rules, provisioning, dashboards) exist where they are expected.
 */
class DockerComposeIT {
    private static final Path COMPOSE = Path.of("..", "docker", "compose.yaml").toAbsolutePath().normalize();
    private static final Path DOCKER = COMPOSE.getParent();

    @Test
    void composeFileIsValid() throws Exception {
        final List<String> command = composeCommand();
        assumePeer(!command.isEmpty(), "compose validation skipped: neither 'docker compose' nor 'docker-compose' "
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
        assertThat(run.cluster.bootstrapServers()).isEqualTo("kafka:29092");
        assertThat(run.options.settings().get(AppSettings.OPS_HOST)).isEqualTo("0.0.0.0");
        // beyond loopback the endpoint needs a token or this explicit choice, else the app refuses to start
        assertThat(run.options.settings().get(AppSettings.OPS_ALLOW_UNAUTHENTICATED)).isTrue();
        assertThat(run.options.toConfig("kafka:29092", "http://schema-registry:8081").opsAuth().openByChoice()).isTrue();
    }

    @Test
    void prometheusLoadsTheAlertingRulesAndGrafanaItsProvisioningAndDashboards() throws Exception {
        final JsonNode services = new ObjectMapper(new YAMLFactory()).readTree(COMPOSE.toFile()).path("services");
        final Map<String, Path> prometheus = mounts(services.path("prometheus"));
        assertThat(prometheus).containsEntry("/etc/prometheus/prometheus.yml", DOCKER.resolve("prometheus/prometheus.yml"))
                .containsEntry("/etc/prometheus/alerts.yml", DOCKER.resolve("prometheus/alerts.yml"));
        // prometheus.yml names its rule file relative to itself: the mount must put it next to the config
        assertThat(Files.readString(DOCKER.resolve("prometheus/prometheus.yml"))).contains("rule_files:\n  - alerts.yml");
        final Map<String, Path> grafana = mounts(services.path("grafana"));
        assertThat(grafana).containsEntry("/etc/grafana/provisioning", DOCKER.resolve("grafana/provisioning"))
                .containsEntry("/var/lib/grafana/dashboards", DOCKER.resolve("grafana/dashboards"));
        assertThat(services.path("grafana").path("depends_on").toString()).contains("prometheus");
        for (final Map.Entry<String, Path> m : concat(prometheus, grafana).entrySet()) {
            assertThat(m.getValue()).as("host side of the mount at %s", m.getKey()).exists();
        }
        assertThat(DOCKER.resolve("grafana/dashboards/spillway.json")).isRegularFile();
    }

    /** A service's bind mounts: container path to host path (resolved against docker/); named volumes left out. */
    private static Map<String, Path> mounts(final JsonNode service) {
        final Map<String, Path> out = new TreeMap<>();
        for (final JsonNode volume : service.path("volumes")) {
            final String[] parts = volume.asText().split(":");
            if (parts[0].startsWith(".") || parts[0].startsWith("/")) {
                out.put(parts[1], DOCKER.resolve(parts[0]).normalize());
            }
        }
        return out;
    }

    private static Map<String, Path> concat(final Map<String, Path> a, final Map<String, Path> b) {
        final Map<String, Path> all = new TreeMap<>(a);
        all.putAll(b);
        return all;
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
