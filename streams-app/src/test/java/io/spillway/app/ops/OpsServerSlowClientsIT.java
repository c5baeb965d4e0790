package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Hostile clients on loopback: many sockets that send nothing, half a request, or a request head one byte at a time
 * (slow loris). {@code /health} must keep answering promptly, and the server must close the stalled connections itself.
 * Every loop here is bounded in count and time.
 */
@Tag("hostile-input")
class OpsServerSlowClientsIT {
    private static final int IDLE = 64;
    private static final int PARTIAL = 16;
    private static final int SLOW_LORIS = 64;
    private static final int PROBES = 100;
    /** A probe slower than this fails the test; a healthy server answers in a few milliseconds. */
    private static final Duration PROBE_BOUND = Duration.ofSeconds(2);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(4);
    private static final Path RESULT = Path.of("target", "hostile-input", "ops.json");

    private final List<Socket> sockets = new ArrayList<>();
    private OpsMetrics metrics;
    private OpsServer server;
    private Thread drip;
    private volatile boolean dripping;

    private void start(final OpsSettings settings) throws IOException {
        metrics = new OpsMetrics();
        server = OpsServer.start(settings, metrics, () -> true, Health::alive);
    }

    private static OpsSettings loopback() {
        return OpsSettings.of("127.0.0.1", 0, OpsAuth.none()).withTimeouts(IDLE_TIMEOUT, HEADER_TIMEOUT);
    }

    @AfterEach
    void stop() throws Exception {
        dripping = false;
        if (drip != null) {
            drip.join(5_000);
        }
        for (final Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
            metrics.close();
        }
    }

    @Test
    void healthAnswersPromptlyWhileIdlePartialAndSlowLorisSocketsHoldConnections() throws Exception {
        start(loopback());
        for (int i = 0; i < IDLE; i++) {
            open();
        }
        for (int i = 0; i < PARTIAL; i++) {
            send(open(), "GET /hea");
        }
        final List<Socket> loris = new ArrayList<>();
        for (int i = 0; i < SLOW_LORIS; i++) {
            final Socket s = open();
            send(s, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
            loris.add(s);
        }
        startDripping(loris, Duration.ofMillis(250));
        final long[] millis = new long[PROBES];
        for (int i = 0; i < PROBES; i++) {
            final long t0 = System.nanoTime();
            final String status = probe(server.uri(), "/health", PROBE_BOUND);
            millis[i] = (System.nanoTime() - t0) / 1_000_000;
            assertThat(status).as("probe %d of %d, after %d ms", i + 1, PROBES, millis[i]).startsWith("HTTP/1.1 200");
            Thread.sleep(20);
        }
        Arrays.sort(millis);
        final long p99 = millis[(int) Math.ceil(0.99 * PROBES) - 1];
        writeResult(p99, millis[PROBES - 1], millis[PROBES / 2]);
        assertThat(p99).as("p99 of /health under %d stalled sockets, ms", IDLE + PARTIAL + SLOW_LORIS)
                .isLessThan(1_000);
    }

    @Test
    void theServerClosesAnIdleSocketAndASlowLorisItself() throws Exception {
        start(loopback());
        final Socket idle = open();
        final Socket loris = open();
        send(loris, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        startDripping(List.of(loris), Duration.ofMillis(300));
        final long t0 = System.nanoTime();
        assertThat(closedByServerWithin(idle, IDLE_TIMEOUT.plusSeconds(3))).as("idle socket closed").isTrue();
        assertThat(closedByServerWithin(loris, HEADER_TIMEOUT.plusSeconds(4))).as("slow loris closed").isTrue();
        final long took = (System.nanoTime() - t0) / 1_000_000;
        // dripping every 300 ms, the slow loris never idles: the request-head deadline closed it
        assertThat(took).isGreaterThanOrEqualTo(HEADER_TIMEOUT.toMillis() - 500);
        assertThat(probe(server.uri(), "/health", PROBE_BOUND)).startsWith("HTTP/1.1 200");
    }

    /**
     * Twice the limit of idle sockets: the first are closed at their idle timeout (or, once Jetty sees them at the
     * limit, after a second), the next at the limit's second, and then the probe is accepted.
     */
    @Test
    void pastTheConnectionLimitIdleConnectionsAreShedAndHealthAnswers() throws Exception {
        start(loopback().withMaxConnections(16));
        for (int i = 0; i < 32; i++) {
            open();
        }
        final long t0 = System.nanoTime();
        assertThat(probe(server.uri(), "/health", Duration.ofSeconds(15))).startsWith("HTTP/1.1 200");
        // shedding takes the idle timeout and a second or two; the slack is for a loaded 2-core CI machine (one run
        // took 8.0 s with the whole suite beside it), the probe's own 15 s bounds it anyway
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to answer past the limit")
                .isLessThan(IDLE_TIMEOUT.toMillis() + 9_000);
    }

    private Socket open() throws IOException {
        final Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.uri().getPort()), 2_000);
        return s;
    }

    private static void send(final Socket s, final String text) throws IOException {
        final OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Writes one header byte to each socket every {@code period} until the test ends (at most 60 s). */
    private void startDripping(final List<Socket> targets, final Duration period) {
        dripping = true;
        drip = new Thread(() -> {
            final long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (dripping && System.nanoTime() < end) {
                for (final Socket s : targets) {
                    try {
                        s.getOutputStream().write('a');
                        s.getOutputStream().flush();
                    } catch (final IOException closedByServer) {
                        // expected once the server gives up on it
                    }
                }
                try {
                    Thread.sleep(period.toMillis());
                } catch (final InterruptedException e) {
                    return;
                }
            }
        }, "slow-loris");
        drip.setDaemon(true);
        drip.start();
    }

    /** Whether the server closes {@code s} (read returns end of stream or a reset) within {@code within}. */
    private static boolean closedByServerWithin(final Socket s, final Duration within) throws IOException {
        s.setSoTimeout((int) within.toMillis());
        final InputStream in = s.getInputStream();
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (final SocketTimeoutException stillOpen) {
            return false;
        } catch (final IOException reset) {
            return true;
        }
    }

    /** One GET on a fresh connection; the status line, or a failure after {@code bound}. */
    private static String probe(final URI base, final String path, final Duration bound) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), base.getPort()), (int) bound.toMillis());
            s.setSoTimeout((int) bound.toMillis());
            send(s, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            final byte[] head = s.getInputStream().readNBytes(12);
            return new String(head, StandardCharsets.US_ASCII);
        }
    }

    private static void writeResult(final long p99, final long max, final long median) throws IOException {
        final ObjectMapper json = new ObjectMapper();
        final ObjectNode root = json.createObjectNode();
        root.put("health_probe_p99_ms_under_slow_clients", p99);
        root.put("health_probe_median_ms_under_slow_clients", median);
        root.put("health_probe_max_ms_under_slow_clients", max);
        root.put("health_probes", PROBES);
        root.put("idle_sockets", IDLE);
        root.put("partial_request_sockets", PARTIAL);
        root.put("slow_loris_sockets", SLOW_LORIS);
        Files.createDirectories(RESULT.getParent());
        json.writerWithDefaultPrettyPrinter().writeValue(RESULT.toFile(), root);
    }
}
