package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operations endpoint with a token: probes stay open, the data needs the token, the token never shows. */
class OpsServerAuthTest {
    private static final String TOKEN = "s3cr3t-ops-token-" + Long.toHexString(System.nanoTime());
    private final HttpClient http = HttpClient.newHttpClient();
    private OpsMetrics metrics;
    private OpsServer server;

    @BeforeEach
    void start() throws Exception {
        metrics = new OpsMetrics();
        server = OpsServer.start(OpsSettings.of("127.0.0.1", 0, OpsAuth.token(TOKEN)), metrics, () -> true,
                Health::alive);
    }

    @AfterEach
    void stop() {
        server.close();
        metrics.close();
    }

    @Test
    void probesAreOpenAndEverythingElseNeedsTheToken() throws Exception {
        assertThat(get("health", null).statusCode()).isEqualTo(200);
        assertThat(get("ready", null).statusCode()).isEqualTo(200);
        for (final String path : List.of("metrics", "prometheus", "api/history", "dashboard", "", "nope")) {
            final HttpResponse<String> denied = get(path, null);
            assertThat(denied.statusCode()).as(path).isEqualTo(401);
            assertThat(denied.headers().allValues("WWW-Authenticate")).as(path)
                    .anySatisfy(v -> assertThat(v).startsWith("Basic"))
                    .anySatisfy(v -> assertThat(v).startsWith("Bearer"));
            assertThat(denied.body()).doesNotContain(TOKEN);
        }
        assertThat(get("metrics", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(get("api/history", "bearer  " + TOKEN).statusCode()).isEqualTo(200);
        assertThat(get("dashboard", basic("anyone", TOKEN)).statusCode()).isEqualTo(200);
        assertThat(get("nope", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
        assertThat(get("metrics", "Bearer " + TOKEN + "x").statusCode()).isEqualTo(401);
        assertThat(get("metrics", "Bearer " + TOKEN.substring(1)).statusCode()).isEqualTo(401);
        assertThat(get("metrics", basic(TOKEN, "wrong")).statusCode()).isEqualTo(401);
        assertThat(get("metrics", "Basic %%%not-base64").statusCode()).isEqualTo(401);
        assertThat(get("metrics", TOKEN).statusCode()).isEqualTo(401);
        assertThat(get("metrics", "Bearer " + TOKEN).body()).doesNotContain(TOKEN);
    }

    @Test
    void tokensAreCheckedAndNeverPrinted(@TempDir final Path dir) throws Exception {
        assertThat(OpsAuth.token(TOKEN).toString()).doesNotContain(TOKEN);
        assertThatThrownBy(() -> OpsAuth.token("short")).hasMessageContaining("at least 16");
        assertThatThrownBy(() -> OpsAuth.token("a token with spaces in it")).hasMessageContaining("visible ASCII");
        final Path file = dir.resolve("ops.token");
        Files.writeString(file, "  " + TOKEN + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        final OpsAuth fromFile = OpsAuth.tokenFile(file);
        assertThat(fromFile.required()).isTrue();
        assertThat(fromFile.permits("Bearer " + TOKEN)).isTrue();
        assertThat(fromFile.permits(null)).isFalse();
        Files.writeString(file, "\n");
        assertThatThrownBy(() -> OpsAuth.tokenFile(file)).hasMessageContaining(file.toString())
                .hasMessageContaining("at least 16");
        assertThat(OpsAuth.none().permits(null)).isTrue();
        assertThat(OpsAuth.none().required()).isFalse();
    }

    private static String basic(final String user, final String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> get(final String path, final String authorization) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(server.uri().resolve(path)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
