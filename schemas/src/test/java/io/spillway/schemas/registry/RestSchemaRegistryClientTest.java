package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.testing.SampleRecords;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RestSchemaRegistryClientTest {
    private static final Schema V1 = SchemaBuilder.record("Thing").namespace("t").fields()
        .requiredString("name").endRecord();
    /** Adds a field with a default: BACKWARD compatible with V1. */
    private static final Schema V2 = SchemaBuilder.record("Thing").namespace("t").fields()
        .requiredString("name").name("size").type().intType().intDefault(0).endRecord();
    /** Adds a field without a default: not BACKWARD compatible with V1. */
    private static final Schema V3_BAD = SchemaBuilder.record("Thing").namespace("t").fields()
        .requiredString("name").requiredLong("weight").endRecord();

    private SchemaRegistryServer server;
    private SchemaRegistryClient client;

    @BeforeEach
    void setUp() {
        server = SchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", 0), null);
        client = SchemaRegistryClients.create(server.url().toString(), Map.of());
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.close();
    }

    @Test
    void registerIsIdempotentAndIdsAreGlobalPerSchema() {
        final int id = client.register("a-value", V1);
        assertThat(client.register("a-value", V1)).isEqualTo(id);
        // A fresh client (empty cache) gets the same id from the server.
        try (SchemaRegistryClient other = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            assertThat(other.register("a-value", V1)).isEqualTo(id);
            assertThat(other.register("b-value", V1)).isEqualTo(id);
            assertThat(other.versions("a-value")).containsExactly(1);
            assertThat(other.versions("b-value")).containsExactly(1);
        }
        final int id2 = client.register("a-value", V2);
        assertThat(id2).isNotEqualTo(id);
        assertThat(client.subjects()).containsExactly("a-value", "b-value");
        assertThat(client.latest("a-value")).get().satisfies(r -> {
            assertThat(r.version()).isEqualTo(2);
            assertThat(r.id()).isEqualTo(id2);
            assertThat(r.schema()).isEqualTo(V2);
        });
        assertThat(client.version("a-value", 1)).get().extracting(RegisteredSchema::id).isEqualTo(id);
        assertThat(client.version("a-value", 7)).isEmpty();
        assertThat(client.latest("nope")).isEmpty();
        assertThat(client.lookup("a-value", V1)).get().extracting(RegisteredSchema::version).isEqualTo(1);
        assertThat(client.lookup("b-value", V2)).isEmpty();
        assertThat(client.lookup("nope", V2)).isEmpty();
    }

    @Test
    void fetchByIdAndUnknownId() {
        final int id = client.register("x-value", Event.getClassSchema());
        try (SchemaRegistryClient other = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            assertThat(other.getById(id)).isEqualTo(Event.getClassSchema());
            assertThatThrownBy(() -> other.getById(999))
                .isInstanceOfSatisfying(UnknownSchemaException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(40403);
                });
        }
    }

    @Test
    void compatibilityChecksAndConflicts() {
        assertThat(client.testCompatibility("c-value", V3_BAD)).as("empty subject accepts anything").isTrue();
        client.register("c-value", V1);
        assertThat(client.testCompatibility("c-value", V2)).isTrue();
        assertThat(client.testCompatibility("c-value", V3_BAD)).isFalse();
        assertThatThrownBy(() -> client.register("c-value", V3_BAD))
            .isInstanceOfSatisfying(IncompatibleSchemaException.class, e -> {
                assertThat(e.httpStatus()).isEqualTo(409);
                assertThat(e.getMessage()).contains("c-value").contains("weight");
            });
        assertThat(client.versions("c-value")).containsExactly(1);

        assertThat(client.globalCompatibility()).isEqualTo(CompatibilityLevel.BACKWARD);
        assertThat(client.compatibility("c-value")).isEqualTo(CompatibilityLevel.BACKWARD);
        client.setCompatibility("c-value", CompatibilityLevel.NONE);
        assertThat(client.compatibility("c-value")).isEqualTo(CompatibilityLevel.NONE);
        assertThat(client.register("c-value", V3_BAD)).isPositive();
        client.setGlobalCompatibility(CompatibilityLevel.FULL);
        assertThat(client.globalCompatibility()).isEqualTo(CompatibilityLevel.FULL);
        assertThat(client.compatibility("other")).isEqualTo(CompatibilityLevel.FULL);
    }

    @Test
    void transitiveLevelsCheckEveryVersion() {
        // v1 {a: string, b}, v2 drops a, v3 re-adds a as int with a default.
        final Schema v1 = SchemaBuilder.record("T").fields().requiredString("a").requiredInt("b").endRecord();
        final Schema v2 = SchemaBuilder.record("T").fields().requiredInt("b").endRecord();
        final Schema v3 = SchemaBuilder.record("T").fields().requiredInt("b")
            .name("a").type().intType().intDefault(0).endRecord();
        client.register("tr-value", v1);
        client.register("tr-value", v2);
        // v3 reads v2 data (a takes its default), so BACKWARD against the latest passes...
        assertThat(client.testCompatibility("tr-value", v3)).isTrue();
        // ...but v3 cannot read v1 data (a: string -> int), which only the transitive check sees.
        client.setCompatibility("tr-value", CompatibilityLevel.BACKWARD_TRANSITIVE);
        assertThat(client.testCompatibility("tr-value", v3)).isFalse();
        assertThatThrownBy(() -> client.register("tr-value", v3))
            .isInstanceOf(IncompatibleSchemaException.class).hasMessageContaining("version 1");
        client.setCompatibility("tr-value", CompatibilityLevel.FORWARD);
        // FORWARD: v2 readers must read v3 data: they ignore the extra a.
        assertThat(client.testCompatibility("tr-value", v3)).isTrue();
    }

    @Test
    void deleteIsSoftAndNumberingContinues() {
        final int id = client.register("d-value", V1);
        assertThat(client.deleteSubject("d-value")).containsExactly(1);
        assertThat(client.subjects()).doesNotContain("d-value");
        assertThat(client.versions("d-value")).isEmpty();
        assertThat(client.deleteSubject("d-value")).isEmpty();
        try (SchemaRegistryClient other = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            assertThat(other.getById(id)).isEqualTo(V1);
        }
        assertThat(client.register("d-value", V1)).isEqualTo(id);
        assertThat(client.versions("d-value")).containsExactly(2);
    }

    @Test
    void hotPathIsServedFromCacheWithoutHttp() {
        final int id = client.register("h-value", V1);
        assertThat(client.getById(id)).isEqualTo(V1);
        server.close();
        // The server is gone: only the caches can answer now.
        assertThat(client.register("h-value", V1)).isEqualTo(id);
        assertThat(client.getById(id)).isEqualTo(V1);
    }

    @Test
    void basicAuthIsSentAndRequired() {
        try (SchemaRegistryServer secured = SchemaRegistryServer.builder().basicAuth("alice", "s3cret:with:colons").start()) {
            final Map<String, Object> config = new HashMap<>();
            config.put(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO");
            config.put(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "alice:s3cret:with:colons");
            try (SchemaRegistryClient authed = SchemaRegistryClients.create(secured.url().toString(), config)) {
                assertThat(authed.register("s-value", V1)).isPositive();
                assertThat(authed.toString()).doesNotContain("s3cret");
            }
            try (SchemaRegistryClient anonymous = SchemaRegistryClients.create(secured.url().toString(), Map.of())) {
                assertThatThrownBy(anonymous::subjects)
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                        assertThat(e).isNotInstanceOf(SchemaRegistryUnavailableException.class);
                        assertThat(e.httpStatus()).isEqualTo(401);
                        assertThat(e.getMessage()).contains("basic.auth");
                    });
            }
            config.put(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "alice:wrong");
            try (SchemaRegistryClient wrong = SchemaRegistryClients.create(secured.url().toString(), config)) {
                assertThatThrownBy(wrong::subjects)
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(401);
                        assertThat(e.getMessage()).doesNotContain("wrong");
                    });
            }
            // Credentials in the URL, Confluent's URL source.
            final String withUser = secured.url().toString().replace("http://", "http://alice:s3cret%3Awith%3Acolons@");
            try (SchemaRegistryClient viaUrl = SchemaRegistryClients.create(withUser,
                Map.of(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "URL"))) {
                assertThat(viaUrl.subjects()).containsExactly("s-value");
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static Map<String, Object> fastRetries(final int retries) {
        return Map.of(SchemaRegistryClientConfig.MAX_RETRIES, retries,
            SchemaRegistryClientConfig.RETRY_BACKOFF_MS, "10",
            SchemaRegistryClientConfig.CONNECT_TIMEOUT_MS, 500);
    }

    @Test
    void registryDownIsUnavailableAfterBoundedRetries() throws IOException {
        final String url = "http://127.0.0.1:" + freePort();
        try (SchemaRegistryClient down = SchemaRegistryClients.create(url, fastRetries(2))) {
            final long start = System.nanoTime();
            assertThatThrownBy(() -> down.getById(1))
                .isInstanceOfSatisfying(SchemaRegistryUnavailableException.class, e -> {
                    assertThat(e.getMessage()).contains("after 3 attempts").contains(url);
                    assertThat(e.getCause()).isInstanceOf(IOException.class);
                });
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
            // The deserializer maps it to the retryable reason.
            try (SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class, down, false)) {
                final byte[] framed = {0, 0, 0, 0, 1, 2};
                assertThatThrownBy(() -> deserializer.deserialize("t", framed))
                    .isInstanceOfSatisfying(SerdeException.class,
                        e -> assertThat(e.reason()).isEqualTo(SerdeException.Reason.REGISTRY_UNAVAILABLE));
            }
        }
    }

    @Test
    void serverErrorsAreRetriedThenUnavailable() throws IOException {
        final AtomicInteger calls = new AtomicInteger();
        final HttpServer failing = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        failing.createContext("/", exchange -> {
            calls.incrementAndGet();
            final byte[] body = "{\"error_code\":50001,\"message\":\"store down\"}".getBytes();
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        failing.start();
        try (SchemaRegistryClient client503 = SchemaRegistryClients.create(
            "http://127.0.0.1:" + failing.getAddress().getPort(), fastRetries(3))) {
            assertThatThrownBy(() -> client503.register("x-value", V1))
                .isInstanceOfSatisfying(SchemaRegistryUnavailableException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(503);
                    assertThat(e.getMessage()).contains("store down");
                });
            assertThat(calls.get()).isEqualTo(4);
        } finally {
            failing.stop(0);
        }
    }

    @Test
    void fetchByGuidAndARegistryWithoutGuidsSaysNotFoundOnceForAWhile() throws IOException {
        client.register("g-value", Event.getClassSchema());
        final java.util.UUID guid = io.spillway.schemas.registry.internals.SchemaGuids.of(Event.getClassSchema());
        assertThat(client.getByGuid(guid)).isEqualTo(Event.getClassSchema());
        assertThatThrownBy(() -> client.getByGuid(java.util.UUID.randomUUID()))
            .isInstanceOfSatisfying(UnknownSchemaException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        // an older registry: a plain 404 page for /schemas/guids, which is "not found", asked once
        final AtomicInteger calls = new AtomicInteger();
        final HttpServer old = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        old.createContext("/", exchange -> {
            calls.incrementAndGet();
            final byte[] body = "<html>Not Found</html>".getBytes();
            exchange.sendResponseHeaders(404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        old.start();
        try (SchemaRegistryClient older = SchemaRegistryClients.create(
            "http://127.0.0.1:" + old.getAddress().getPort(), fastRetries(1))) {
            assertThatThrownBy(() -> older.getByGuid(guid)).isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("does not serve /schemas/guids/");
            for (int i = 0; i < 2; i++) {
                assertThatThrownBy(() -> older.getByGuid(guid)).isInstanceOf(UnknownSchemaException.class)
                    .hasMessageContaining("not found (the registry said so less than");
            }
            assertThat(calls.get()).as("remembered as missing").isEqualTo(1);
        } finally {
            old.stop(0);
        }
    }

    @Test
    void failsOverToTheNextUrl() throws IOException {
        final String urls = "http://127.0.0.1:" + freePort() + "," + server.url();
        try (SchemaRegistryClient failover = SchemaRegistryClients.create(urls, fastRetries(1))) {
            assertThat(failover.register("f-value", V1)).isPositive();
            assertThat(failover.subjects()).containsExactly("f-value");
        }
    }

    @Test
    void badUrlsAndSettingsAreRejected() {
        assertThatThrownBy(() -> SchemaRegistryClients.create("ftp://x", Map.of()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http(s)://");
        assertThatThrownBy(() -> SchemaRegistryClients.create(" ", Map.of()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> SchemaRegistryClients.create("http://h:1",
            Map.of(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "SASL_INHERIT")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("USER_INFO");
        assertThatThrownBy(() -> SchemaRegistryClients.create("http://h:1",
            Map.of(SchemaRegistryClientConfig.MAX_RETRIES, "many")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("schema.registry.max.retries");
    }

    @Test
    void mockAndHttpClientsBehaveAlike() {
        try (SchemaRegistryClient mock = SchemaRegistryClients.create("mock://alike", Map.of())) {
            for (final SchemaRegistryClient c : List.of(mock, client)) {
                final int id = c.register("p-value", Prediction.getClassSchema());
                assertThat(c.register("q-value", Prediction.getClassSchema())).isEqualTo(id);
                assertThat(c.getById(id)).isEqualTo(Prediction.getClassSchema());
                assertThat(c.testCompatibility("p-value", SampleRecords.event().getSchema())).isFalse();
                assertThatThrownBy(() -> c.register("p-value", Event.getClassSchema()))
                    .isInstanceOf(IncompatibleSchemaException.class);
                assertThatThrownBy(() -> c.getById(id + 100)).isInstanceOf(UnknownSchemaException.class);
            }
        } finally {
            SchemaRegistryClients.dropMockScope("alike");
        }
    }
}
