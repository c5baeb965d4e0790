package io.spillway.schemas.registry.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Idle and slow-loris clients must not starve the registry (issue 18, item 5): with four request
 * threads, 96 silent or trickling connections used to make every request wait forever.
 */
@Tag("hostile-input")
class SlowClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WORKERS = 4;
    private static final String SCHEMA = "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";

    private final List<Socket> sockets = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void closeSockets() {
        for (final Socket socket : sockets) {
            try {
                socket.close();
            } catch (final IOException e) {
                // already gone
            }
        }
        http.close();
    }

    @Test
    void idleAndTricklingConnectionsDoNotDelayOtherRequests() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().threads(WORKERS).start()) {
            final int port = server.url().getPort();
            final int id = register(server.url());
            // 32 connections that never send a byte, 32 that stop in the middle of the headers,
            // 32 that announce a body and send a few bytes of it: 24 times the worker count.
            for (int i = 0; i < 32; i++) {
                open(port, "");
                open(port, "GET /subjects HTTP/1.1\r\nHost: x\r\nX-Slow: ");
                open(port, "POST /subjects/slow-value/versions HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"schema\":");
            }
            long slowestMs = 0;
            for (int i = 0; i < 20; i++) {
                final long start = System.nanoTime();
                final HttpResponse<String> byId = http.send(HttpRequest.newBuilder(server.url().resolve("/schemas/ids/" + id))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                assertThat(byId.statusCode()).isEqualTo(200);
                slowestMs = Math.max(slowestMs, (System.nanoTime() - start) / 1_000_000);
            }
            assertThat(register(server.url())).as("a registration still goes through").isEqualTo(id);
            assertThat(slowestMs).as("slowest of 20 requests next to 96 slow connections, ms").isLessThan(2_000);
        }
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().idleTimeout(Duration.ofMillis(300)).start()) {
            final Socket silent = open(server.url().getPort(), "GET /subjects HTTP/1.1\r\nHost: x\r\n");
            silent.setSoTimeout(5_000);
            final long start = System.nanoTime();
            final byte[] answer = readAll(silent.getInputStream());
            final long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(waitedMs).as("ms until the server closed the stalled connection").isBetween(100L, 4_000L);
            // Jetty may answer 408 before closing; either way the connection is gone.
            assertThat(new String(answer, StandardCharsets.ISO_8859_1)).satisfiesAnyOf(
                text -> assertThat(text).isEmpty(), text -> assertThat(text).startsWith("HTTP/1.1 408"));
        }
    }

    @Test
    void aBodyThatDoesNotArriveInTimeIsAnswered408() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().requestTimeout(Duration.ofMillis(400))
            .idleTimeout(Duration.ofSeconds(20)).start()) {
            final Socket trickle = open(server.url().getPort(), "POST /subjects/t-value/versions HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"sch");
            trickle.setSoTimeout(5_000);
            final long start = System.nanoTime();
            // Keep trickling, so only the request deadline (not the idle timeout) can end it.
            final OutputStream out = trickle.getOutputStream();
            final byte[] answer;
            try {
                for (int i = 0; i < 8; i++) {
                    Thread.sleep(100);
                    out.write('e');
                    out.flush();
                }
            } catch (final IOException closedByServer) {
                // the server may close before we stop writing
            }
            answer = readAll(trickle.getInputStream());
            final String text = new String(answer, StandardCharsets.UTF_8);
            assertThat(text).startsWith("HTTP/1.1 408");
            assertThat(JSON.readTree(text.substring(text.indexOf("\r\n\r\n") + 4)).get("error_code").asInt()).isEqualTo(408);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(4_000);
        }
    }

    @Test
    void stalledBodiesCannotHoldMoreMemoryThanTheBudgetAndTheRegistryRecovers() throws Exception {
        // maxSchemaBytes 1000: a body may have 67,536 bytes, all bodies in flight 16 times that.
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().maxSchemaBytes(1_000).start()) {
            final int port = server.url().getPort();
            final byte[] part = ("{\"schema\":\"" + "x".repeat(60_000)).getBytes(StandardCharsets.US_ASCII);
            final List<Socket> stalled = new ArrayList<>();
            String busy = null;
            for (int i = 0; i < 24 && busy == null; i++) {
                final Socket socket = open(port, "POST /subjects/s-value/versions HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 67000\r\n\r\n");
                socket.getOutputStream().write(part);
                socket.getOutputStream().flush();
                stalled.add(socket);
                socket.setSoTimeout(150);
                try {
                    final byte[] head = new byte[512];
                    final int n = socket.getInputStream().read(head);
                    if (n > 0) {
                        busy = new String(head, 0, n, StandardCharsets.UTF_8);
                    }
                } catch (final SocketTimeoutException stillReading) {
                    // the server holds this body and waits for the rest
                }
            }
            assertThat(busy).as("a body past the budget is refused").isNotNull().startsWith("HTTP/1.1 503")
                .contains("Retry-After: 1").contains("\"error_code\":50301");
            // 1,080,576 bytes of budget hold 18 bodies of 60,011 bytes (one more if a refusal was read late).
            assertThat(stalled.size() - 1).as("bodies held before the budget ran out").isBetween(17, 19);
            for (final Socket socket : stalled) {
                socket.close();
            }
            // Closed connections give their budget back.
            final long deadline = System.nanoTime() + 5_000_000_000L;
            int id = -1;
            while (id < 0 && System.nanoTime() < deadline) {
                try {
                    id = register(server.url());
                } catch (final AssertionError stillBusy) {
                    Thread.sleep(50);
                }
            }
            assertThat(id).isPositive();
        }
    }

    private int register(final URI base) throws Exception {
        final HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/subjects/fast-value/versions"))
            .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("schema", SCHEMA)))).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        final JsonNode body = JSON.readTree(r.body());
        return body.get("id").asInt();
    }

    private Socket open(final int port, final String prefix) throws IOException {
        final Socket socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        if (!prefix.isEmpty()) {
            socket.getOutputStream().write(prefix.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
        }
        return socket;
    }

    private static byte[] readAll(final InputStream in) throws IOException {
        try {
            return in.readAllBytes();
        } catch (final SocketTimeoutException e) {
            throw new AssertionError("the server kept a stalled connection open for 5 s", e);
        } catch (final IOException reset) {
            return new byte[0];
        }
    }
}
