package io.spillway.schemas.registry.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry server over raw HTTP, as Confluent's clients speak to it: codes, persistence, races. */
class SchemaRegistryServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String V1 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
    private static final String V2_COMPATIBLE = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
            + "{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}]}";
    private static final String V3_INCOMPATIBLE = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
            + "{\"name\":\"c\",\"type\":\"long\"}]}";
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void idsSurviveARestartFromTheStoreFile() throws Exception {
        final Path store = dir.resolve("schemas.jsonl");
        final int id1;
        final int id2;
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            id1 = register(server.url(), "events-value", V1).get("id").asInt();
            id2 = register(server.url(), "events-value", V2_COMPATIBLE).get("id").asInt();
            assertThat(id2).isNotEqualTo(id1);
        }
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            assertThat(register(server.url(), "events-value", V1).get("id").asInt()).isEqualTo(id1);
            final HttpResponse<String> byId = get(server.url(), "/schemas/ids/" + id2);
            assertThat(byId.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(JSON.readTree(byId.body()).get("schema").asText()).get("fields")).hasSize(2);
            final JsonNode versions = JSON.readTree(get(server.url(), "/subjects/events-value/versions").body());
            assertThat(versions.toString()).isEqualTo("[1,2]");
            final int id3 = register(server.url(), "other-value", "\"string\"").get("id").asInt();
            assertThat(id3).isNotIn(id1, id2);
        }
    }

    @Test
    void everySchemaHasAGuidThatSurvivesARestartAndLooksItUp() throws Exception {
        final Path store = dir.resolve("guids.jsonl");
        final int id;
        final String guid;
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            id = register(server.url(), "events-value", V1).get("id").asInt();
            guid = JSON.readTree(get(server.url(), "/schemas/ids/" + id).body()).get("guid").asText();
            assertThat(JSON.readTree(get(server.url(), "/subjects/events-value/versions/1").body()).get("guid")
                    .asText()).isEqualTo(guid);
        }
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            final HttpResponse<String> byGuid = get(server.url(), "/schemas/guids/" + guid);
            assertThat(byGuid.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(byGuid.body()).get("schemaType").asText()).isEqualTo("AVRO");
            assertThat(JSON.readTree(JSON.readTree(byGuid.body()).get("schema").asText()))
                    .isEqualTo(JSON.readTree(V1));
            assertThat(get(server.url(), "/schemas/guids/" + guid + "/schema").body()).isEqualTo(
                    JSON.readTree(get(server.url(), "/schemas/ids/" + id).body()).get("schema").asText());
            for (final String bad : new String[] {"00000000-0000-0000-0000-000000000000", "not-a-guid"}) {
                final HttpResponse<String> missing = get(server.url(), "/schemas/guids/" + bad);
                assertThat(missing.statusCode()).isEqualTo(404);
                assertThat(JSON.readTree(missing.body()).get("error_code").asInt()).isEqualTo(40403);
            }
        }
    }

    @Test
    void incompatibleSchemaIsRejectedWithConfluentsCode409() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null)) {
            register(server.url(), "events-value", V1);
            final HttpResponse<String> r = post(server.url(), "/subjects/events-value/versions", V3_INCOMPATIBLE);
            assertThat(r.statusCode()).isEqualTo(409);
            assertThat(JSON.readTree(r.body()).get("error_code").asInt()).isEqualTo(409);
            final HttpResponse<String> check = post(server.url(), "/compatibility/subjects/events-value/versions/latest",
                    V3_INCOMPATIBLE);
            assertThat(check.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(check.body()).get("is_compatible").asBoolean()).isFalse();
        }
    }

    @Test
    void unknownThingsAndBadSchemasGetConfluentsErrorCodes() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null)) {
            final HttpResponse<String> subject = get(server.url(), "/subjects/nope/versions");
            assertThat(subject.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(subject.body()).get("error_code").asInt()).isEqualTo(40401);
            final HttpResponse<String> id = get(server.url(), "/schemas/ids/999");
            assertThat(id.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(id.body()).get("error_code").asInt()).isEqualTo(40403);
            register(server.url(), "s-value", V1);
            final HttpResponse<String> version = get(server.url(), "/subjects/s-value/versions/7");
            assertThat(version.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(version.body()).get("error_code").asInt()).isEqualTo(40402);
            final HttpResponse<String> bad = post(server.url(), "/subjects/s-value/versions", "{\"type\":\"nonsense\"}");
            assertThat(bad.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(bad.body()).get("error_code").asInt()).isEqualTo(42201);
        }
    }

    @Test
    void concurrentRegistrationsOfOneSchemaGetOneId() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, dir.resolve("race.jsonl"))) {
            final ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                final List<Future<Integer>> results = new ArrayList<>();
                final Set<Integer> ids = ConcurrentHashMap.newKeySet();
                for (int i = 0; i < 32; i++) {
                    final Callable<Integer> call = () -> register(server.url(), "race-value", V1).get("id").asInt();
                    results.add(pool.submit(call));
                }
                for (final Future<Integer> f : results) {
                    ids.add(f.get());
                }
                assertThat(ids).hasSize(1);
                assertThat(JSON.readTree(get(server.url(), "/subjects/race-value/versions").body()).toString())
                        .isEqualTo("[1]");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aTornLastLineIsDroppedAndACorruptLineFailsTheStartNamingTheFile() throws Exception {
        final Path store = dir.resolve("torn.jsonl");
        final int id;
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            id = register(server.url(), "t-value", V1).get("id").asInt();
        }
        // A crash in the middle of an append leaves a line without its newline.
        Files.writeString(store, "{\"op\":\"reg", StandardOpenOption.APPEND);
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, store)) {
            assertThat(register(server.url(), "t-value", V1).get("id").asInt()).isEqualTo(id);
            assertThat(register(server.url(), "t-value", V2_COMPATIBLE).get("id").asInt()).isNotEqualTo(id);
        }
        assertThat(Files.readAllLines(store)).allSatisfy(line -> assertThat(JSON.readTree(line).isObject()).isTrue());

        final List<String> lines = new ArrayList<>(Files.readAllLines(store));
        lines.add(1, "not json");
        Files.write(store, lines);
        assertThatThrownBy(() -> SchemaRegistryServer.start(null, store))
            .isInstanceOf(UncheckedIOException.class)
            .hasMessageContaining(store + ":2");
    }

    @Test
    void oneStoreFileServesOneRegistryAtATime() {
        final Path store = dir.resolve("shared.jsonl");
        try (SchemaRegistryServer first = SchemaRegistryServer.start(null, store)) {
            assertThatThrownBy(() -> SchemaRegistryServer.start(null, store))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining(store.toString());
            assertThat(first.url().getPort()).isPositive();
        }
        try (SchemaRegistryServer again = SchemaRegistryServer.start(null, store)) {
            assertThat(again.url().getHost()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void speaksConfluentsMediaTypeAndPlainJsonAndTheReadEndpoints() throws Exception {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null)) {
            final String body = JSON.writeValueAsString(java.util.Map.of("schema", V1));
            final HttpResponse<String> plain = http.send(HttpRequest.newBuilder(server.url().resolve("/subjects/m-value/versions"))
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);
            assertThat(plain.headers().firstValue("Content-Type")).hasValue("application/vnd.schemaregistry.v1+json");
            final int id = JSON.readTree(plain.body()).get("id").asInt();

            final HttpResponse<String> lookup = post(server.url(), "/subjects/m-value", V1);
            assertThat(lookup.statusCode()).isEqualTo(200);
            final JsonNode found = JSON.readTree(lookup.body());
            assertThat(found.get("subject").asText()).isEqualTo("m-value");
            assertThat(found.get("version").asInt()).isEqualTo(1);
            assertThat(found.get("id").asInt()).isEqualTo(id);
            final HttpResponse<String> missing = post(server.url(), "/subjects/m-value", V2_COMPATIBLE);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(missing.body()).get("error_code").asInt()).isEqualTo(40403);
            assertThat(JSON.readTree(missing.body()).get("message").asText()).contains("m-value");

            final JsonNode rawSchema = JSON.readTree(get(server.url(), "/schemas/ids/" + id + "/schema").body());
            assertThat(rawSchema.get("name").asText()).isEqualTo("R");
            assertThat(JSON.readTree(get(server.url(), "/subjects/m-value/versions/latest").body()).get("id").asInt())
                .isEqualTo(id);
            assertThat(get(server.url(), "/subjects").body()).isEqualTo("[\"m-value\"]");
            assertThat(JSON.readTree(get(server.url(), "/config").body()).get("compatibilityLevel").asText())
                .isEqualTo("BACKWARD");
            final HttpResponse<String> unknownSubject = get(server.url(), "/subjects/ghost/versions/latest");
            assertThat(JSON.readTree(unknownSubject.body()).get("message").asText()).contains("ghost");
        }
    }

    private JsonNode register(final URI base, final String subject, final String schema) throws Exception {
        final HttpResponse<String> r = post(base, "/subjects/" + subject + "/versions", schema);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> post(final URI base, final String path, final String schema) throws Exception {
        final String body = JSON.writeValueAsString(java.util.Map.of("schema", schema));
        return http.send(HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(final URI base, final String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
