package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeException;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The REST client under bad records and a bad registry (issue 18, item 6): unknown ids are
 * remembered as unknown, unavailability is never mistaken for it, and a call ends in bounded time.
 */
@Tag("hostile-input")
class RegistryClientResilienceTest {
    private static final Schema THING = SchemaBuilder.record("Thing").fields().requiredString("name").endRecord();

    private HttpServer fake;
    private final AtomicInteger requests = new AtomicInteger();

    @AfterEach
    void stopFake() {
        if (fake != null) {
            fake.stop(0);
        }
    }

    /** A registry that counts requests and answers each with the given status and body. */
    private String fakeRegistry(final IntFunction<Answer> answers) throws IOException {
        fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        fake.createContext("/", exchange -> {
            final Answer answer = answers.apply(requests.incrementAndGet());
            final byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(answer.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        fake.start();
        return "http://127.0.0.1:" + fake.getAddress().getPort();
    }

    private record Answer(int status, String body) {
    }

    private static final Answer UNKNOWN = new Answer(404, "{\"error_code\":40403,\"message\":\"Schema 999 not found\"}");

    @Test
    void aStreamOfRecordsWithOneUnknownIdCostsOneRequest() throws IOException {
        final String url = fakeRegistry(n -> UNKNOWN);
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of());
             SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class, client, false)) {
            final byte[] record = {0, 0, 0, 3, (byte) 0xe7, 2, 4};
            for (int i = 0; i < 100; i++) {
                assertThatThrownBy(() -> deserializer.deserialize("events", record))
                    .isInstanceOfSatisfying(SerdeException.class,
                        e -> assertThat(e.reason()).isEqualTo(SerdeException.Reason.UNKNOWN_SCHEMA_ID));
            }
            assertThat(requests.get()).as("requests for 100 records naming unknown id 999").isEqualTo(1);
            final RegistryClientStats stats = client.stats();
            assertThat(stats.requests()).isEqualTo(1);
            assertThat(stats.notFound()).isEqualTo(1);
            assertThat(stats.missingIdCacheHits()).isEqualTo(99);
            assertThat(stats.unavailable()).isZero();
        }
    }

    @Test
    void unknownIdsAreForgottenAfterTheirTimeToLiveAndTheCacheIsBounded() throws IOException, InterruptedException {
        final String url = fakeRegistry(n -> UNKNOWN);
        final Map<String, Object> config = new HashMap<>();
        config.put(SchemaRegistryClientConfig.MISSING_ID_CACHE_TTL_SEC, "0.3");
        // Confluent's name, here with the client prefix the app's --config passes on.
        config.put("schema.registry." + SchemaRegistryClientConfig.MISSING_CACHE_SIZE, 2);
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url, config)) {
            assertThatThrownBy(() -> client.getById(5)).isInstanceOf(UnknownSchemaException.class);
            assertThatThrownBy(() -> client.getById(5)).isInstanceOf(UnknownSchemaException.class)
                .hasMessageContaining("less than 0.3 s ago");
            assertThat(requests.get()).isEqualTo(1);
            Thread.sleep(400);
            assertThatThrownBy(() -> client.getById(5)).isInstanceOf(UnknownSchemaException.class);
            assertThat(requests.get()).as("asked again once the entry expired").isEqualTo(2);
            assertThatThrownBy(() -> client.getById(6)).isInstanceOf(UnknownSchemaException.class);
            assertThatThrownBy(() -> client.getById(7)).isInstanceOf(UnknownSchemaException.class);
            assertThat(requests.get()).isEqualTo(4);
            assertThatThrownBy(() -> client.getById(5)).isInstanceOf(UnknownSchemaException.class);
            assertThat(requests.get()).as("id 5 was the oldest of three in a cache of two").isEqualTo(5);
        }
    }

    @Test
    void anIdRegisteredAfterBeingReportedUnknownIsFoundByTheRegisteringClient() {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null);
             SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            assertThatThrownBy(() -> client.getById(1)).isInstanceOf(UnknownSchemaException.class);
            assertThat(client.register("t-value", THING)).isEqualTo(1);
            assertThat(client.getById(1)).isEqualTo(THING);
        }
    }

    @Test
    void anUnavailableRegistryIsNeverRememberedAsUnknown() throws IOException {
        final String schema = "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Thing\\\",\\\"fields\\\":"
            + "[{\\\"name\\\":\\\"name\\\",\\\"type\\\":\\\"string\\\"}]}\"}";
        final String url = fakeRegistry(n -> n <= 3 ? new Answer(503, "{\"error_code\":50001,\"message\":\"down\"}")
            : new Answer(200, schema));
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url,
            Map.of(SchemaRegistryClientConfig.MAX_RETRIES, 0))) {
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> client.getById(4)).isInstanceOf(SchemaRegistryUnavailableException.class);
            }
            assertThat(client.getById(4)).isEqualTo(THING);
            assertThat(requests.get()).isEqualTo(4);
            assertThat(client.stats().unavailable()).isEqualTo(3);
            assertThat(client.stats().missingIdCacheHits()).isZero();
        }
    }

    @Test
    void aCallEndsWithinTheCallTimeoutHoweverManyRetriesAreAllowed() throws IOException {
        // A registry that accepts connections and never answers.
        try (ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            final Map<String, Object> config = Map.of(
                SchemaRegistryClientConfig.CALL_TIMEOUT_MS, 1_000,
                SchemaRegistryClientConfig.REQUEST_TIMEOUT_MS, 400,
                SchemaRegistryClientConfig.MAX_RETRIES, 20,
                SchemaRegistryClientConfig.RETRY_BACKOFF_MS, 10);
            try (SchemaRegistryClient client = SchemaRegistryClients.create(
                "http://127.0.0.1:" + blackHole.getLocalPort(), config)) {
                final long start = System.nanoTime();
                assertThatThrownBy(() -> client.getById(1))
                    .isInstanceOfSatisfying(SchemaRegistryUnavailableException.class,
                        e -> assertThat(e.getMessage()).contains("in at most 1000 ms"));
                final long tookMs = (System.nanoTime() - start) / 1_000_000;
                assertThat(tookMs).as("ms one call blocked with 20 retries allowed").isLessThan(2_500);
                assertThat(client.stats().requests()).isBetween(2L, 4L);
                assertThat(client.stats().retries()).isEqualTo(client.stats().requests() - 1);
            }
        }
    }

    @Test
    void theDefaultsBoundACallToEightSeconds() throws IOException {
        final int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try (SchemaRegistryClient client = SchemaRegistryClients.create("http://127.0.0.1:" + port, Map.of())) {
            assertThatThrownBy(() -> client.getById(1))
                .isInstanceOfSatisfying(SchemaRegistryUnavailableException.class, e -> assertThat(e.getMessage())
                    .contains("after 3 attempts in at most 8000 ms"));
            assertThat(client.stats().unavailable()).isEqualTo(1);
        }
    }

    @Test
    void statsCountWhatHappened() {
        try (SchemaRegistryServer server = SchemaRegistryServer.start(null, null);
             SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            final Schema incompatible = SchemaBuilder.record("Thing").fields().requiredLong("weight").endRecord();
            client.register("s-value", THING);
            client.register("s-value", THING);
            assertThatThrownBy(() -> client.register("s-value", incompatible)).isInstanceOf(IncompatibleSchemaException.class);
            assertThat(client.versions("nope")).isEmpty();
            assertThat(client.stats()).isEqualTo(new RegistryClientStats(3, 0, 0, 1, 1, 0));
        }
        try (SchemaRegistryClient mock = SchemaRegistryClients.create("mock://stats", Map.of())) {
            assertThat(mock.stats()).isEqualTo(RegistryClientStats.NONE);
        } finally {
            SchemaRegistryClients.dropMockScope("stats");
        }
    }
}
