package io.spillway.app.it;

import static io.spillway.testing.PeerAssumptions.assumePeer;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Confluent's own Python client (Debian's {@code python3-confluent-kafka}, with {@code python3-avro} and
 * {@code python3-requests}) as an independent test peer: {@code src/test/python/confluent_peer.py} run by the system
 * interpreter, where Debian installs those packages.
 */
public final class ConfluentPeer {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SCRIPT = Path.of("src", "test", "python", "confluent_peer.py");

    private ConfluentPeer() {
    }

    /** Skips the calling test class when the client is missing (under {@code CI=true} fails it: PeerAssumptions). */
    public static void assumeAvailable() throws Exception {
        assumePeer(Files.isExecutable(PYTHON), "skipped: /usr/bin/python3 is not installed");
        final Process probe = new ProcessBuilder(PYTHON.toString(), "-c",
                "import confluent_kafka.avro, avro, requests").redirectErrorStream(true).start();
        final String output = new String(probe.getInputStream().readAllBytes());
        assumePeer(probe.waitFor() == 0, "skipped: Debian packages python3-confluent-kafka, python3-avro and "
                + "python3-requests are needed (" + output.trim() + ")");
    }

    /**
     * Runs {@code confluent_peer.py args...}, its output kept in a file of its own under {@code dir}.
     *
     * @return the lines it printed that are JSON objects
     * @throws AssertionError when it fails or takes longer than two minutes, with what it printed
     */
    public static List<String> run(final Path dir, final String... args) throws Exception {
        final List<String> command = new ArrayList<>(List.of(PYTHON.toString(), SCRIPT.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        final Path out = dir.resolve("python-" + args[0] + "-" + System.nanoTime() + ".out");
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python peer timed out: " + Files.readString(out));
        }
        final List<String> lines = Files.readAllLines(out);
        assertThat(p.exitValue()).as("python peer failed: %s", String.join("\n", lines)).isZero();
        return lines.stream().filter(l -> l.startsWith("{")).toList();
    }
}
