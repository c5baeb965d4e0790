package io.spillway.schemas.registry.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry cannot be exhausted, and only sane subject names get in (issue 18, item 9). */
@Tag("hostile-input")
class RegistryLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        http.close();
    }

    private static String record(final String name, final int fields) {
        final StringBuilder out = new StringBuilder("{\"type\":\"record\",\"name\":\"" + name + "\",\"fields\":[");
        for (int i = 0; i < fields; i++) {
            out.append(i == 0 ? "" : ",").append("{\"name\":\"f").append(i)
                .append("\",\"type\":\"int\",\"default\":0}");
        }
        return out.append("]}").toString();
    }

    private static String withDoc(final int docChars) {
        return "{\"type\":\"record\",\"name\":\"Big\",\"doc\":\"" + "d".repeat(docChars)
            + "\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
    }

    @Test
    void aSchemaOverOneMebibyteIsRefused422WithConfluentsCodeAndABodyOverTheCap413() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, dir.resolve("size.jsonl"))) {
            final HttpResponse<String> big = register(server.url(), "big-value", withDoc(1_100_000));
            assertThat(big.statusCode()).as(big.body()).isEqualTo(422);
            assertThat(error(big)).isEqualTo(42209);
            final HttpResponse<String> huge = register(server.url(), "big-value", withDoc(3_000_000));
            assertThat(huge.statusCode()).as(huge.body()).isEqualTo(413);
            assertThat(error(huge)).isEqualTo(413);
            final HttpResponse<String> fits = register(server.url(), "big-value", withDoc(900_000));
            assertThat(fits.statusCode()).as(fits.body()).isEqualTo(200);
            assertThat(get(server.url(), "/subjects/big-value/versions").body()).isEqualTo("[1]");
        }
    }

    @Test
    void schemasSubjectsAndVersionsAreBoundedAndARefusalChangesNothing() throws Exception {
        final Path store = dir.resolve("quota.jsonl");
        try (SchemaRegistryServer server = SchemaRegistryServer.builder().storeFile(store)
            .maxSchemas(3).maxSubjects(2).maxVersionsPerSubject(3).start()) {
            final URI url = server.url();
            final int id1 = idOf(register(url, "a-value", record("R", 1)));
            final int id2 = idOf(register(url, "a-value", record("R", 2)));
            final int id3 = idOf(register(url, "a-value", record("R", 3)));
            final HttpResponse<String> fourthVersion = register(url, "a-value", record("R", 4));
            assertThat(fourthVersion.statusCode()).as(fourthVersion.body()).isEqualTo(422);
            assertThat(error(fourthVersion)).isEqualTo(42205);
            assertThat(JSON.readTree(fourthVersion.body()).get("message").asText()).contains("versions");
            // The same schema under another subject needs no new id; a third subject is one too many.
            assertThat(idOf(register(url, "b-value", record("R", 1)))).isEqualTo(id1);
            final HttpResponse<String> thirdSubject = register(url, "c-value", record("R", 1));
            assertThat(thirdSubject.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(thirdSubject.body()).get("message").asText()).contains("subjects");
            final HttpResponse<String> levelOnly = put(url, "/config/d-value", "{\"compatibility\":\"NONE\"}");
            assertThat(levelOnly.statusCode()).as("a level-only subject counts too").isEqualTo(422);
            final HttpResponse<String> fourthSchema = register(url, "b-value", record("R", 4));
            assertThat(fourthSchema.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(fourthSchema.body()).get("message").asText()).contains("schemas");
            // Known schemas are still answered; nothing of the refused ones was stored.
            assertThat(idOf(register(url, "a-value", record("R", 2)))).isEqualTo(id2);
            assertThat(idOf(register(url, "b-value", record("R", 3)))).isEqualTo(id3);
            assertThat(get(url, "/subjects").body()).isEqualTo("[\"a-value\",\"b-value\"]");
            assertThat(get(url, "/subjects/a-value/versions").body()).isEqualTo("[1,2,3]");
            assertThat(get(url, "/subjects/b-value/versions").body()).isEqualTo("[1,2]");
            assertThat(get(url, "/schemas/ids/" + (id3 + 1)).statusCode()).isEqualTo(404);
        }
        try (SchemaRegistryServer again = SchemaRegistryServer.start(null, store)) {
            assertThat(get(again.url(), "/subjects").body()).as("the refusals left no trace in the store")
                .isEqualTo("[\"a-value\",\"b-value\"]");
        }
    }

    @Test
    void subjectNamesWithControlCharactersPathsOrExcessLengthAreRefused() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null)) {
            final URI url = server.url();
            final List<String> bad = List.of("nul%00value", "new%0Aline", "tab%09x", "del%7F", "c1%C2%85x",
                "sep%E2%80%A8x", "a".repeat(256), "%2E%2E", "%2E", "back%5Cslash", "a%2Fb");
            for (final String encoded : bad) {
                final HttpResponse<String> r = register(url, encoded, record("R", 1));
                assertThat(r.statusCode()).as(encoded + ": " + r.body()).isBetween(400, 499);
                final JsonNode body = JSON.readTree(r.body());
                assertThat(body.has("error_code")).as(encoded).isTrue();
                if (r.statusCode() == 400) {
                    // Jetty's own refusal, after which it closes the connection: said, so no request is lost on it
                    assertThat(r.headers().firstValue("connection")).as(encoded).hasValue("close");
                }
                if (r.statusCode() == 422) {
                    assertThat(body.get("error_code").asInt()).as(encoded).isEqualTo(42208);
                    assertThat(body.get("message").asText()).as("the name is escaped in the message")
                        .doesNotContain("\n", "\u0000", "\u0085", "\u2028");
                }
            }
            final HttpResponse<String> badLevel = put(url, "/config/" + "b".repeat(300), "{\"compatibility\":\"NONE\"}");
            assertThat(badLevel.statusCode()).as(badLevel.body()).isEqualTo(422);
            assertThat(error(badLevel)).isEqualTo(42208);
            final HttpResponse<String> rejectedByJetty = put(url, "/config/new%0Aline", "{\"compatibility\":\"NONE\"}");
            assertThat(rejectedByJetty.statusCode()).isEqualTo(400);
            assertThat(error(rejectedByJetty)).as("every method gets the JSON error body").isEqualTo(400);
            assertThat(get(url, "/subjects").body()).as("none of them got in").isEqualTo("[]");

            final List<String> good = List.of("events-value", "my.topic-key", "%3A.ctx%3Aorders-value",
                "%C3%BCn%C3%AFc%C3%B6d%C3%A9-value", "a".repeat(255), "with%20space", "a..b");
            for (final String encoded : good) {
                final HttpResponse<String> r = register(url, encoded, record("R", 1));
                assertThat(r.statusCode()).as(encoded + ": " + r.body()).isEqualTo(200);
            }
            assertThat(JSON.readTree(get(url, "/subjects").body())).hasSize(good.size());
        }
    }

    private static int error(final HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("error_code").asInt();
    }

    private static int idOf(final HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).get("id").asInt();
    }

    private HttpResponse<String> register(final URI base, final String encodedSubject, final String schema)
        throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/subjects/" + encodedSubject + "/versions"))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("schema", schema)))).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> put(final URI base, final String path, final String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(final URI base, final String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    }
}
