package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import io.spillway.schemas.testing.SampleRecords;
import io.spillway.schemas.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The registry over HTTPS with basic auth, and the client configured the Confluent way
 * ({@code basic.auth.*}, {@code schema.registry.ssl.truststore.*}). No secret may show anywhere.
 */
class SecuredRegistryTest {
    private static final String PASSWORD = "Pa55-w0rd-for-alice";
    private static final String KEY_STORE_PASSWORD = "key-store-secret-17";
    private static final String TRUST_STORE_PASSWORD = "trust-store-secret-23";
    private static final Schema THING = SchemaBuilder.record("Thing").fields().requiredString("name").endRecord();

    @TempDir
    static Path dir;
    private static TestCertificates certificates;
    private static SchemaRegistryServer server;
    private static ListAppender<ILoggingEvent> logs;
    private static Level spillwayLevel;

    @BeforeAll
    static void start() throws Exception {
        logs = new ListAppender<>();
        logs.start();
        final Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        final Logger spillway = (Logger) LoggerFactory.getLogger("io.spillway");
        spillwayLevel = spillway.getLevel();
        spillway.setLevel(Level.DEBUG);
        certificates = TestCertificates.create(dir, KEY_STORE_PASSWORD, TRUST_STORE_PASSWORD);
        server = SchemaRegistryServer.builder().tls(certificates.keyStore(), KEY_STORE_PASSWORD)
            .basicAuth("alice", PASSWORD).storeFile(dir.resolve("secured.jsonl")).start();
    }

    @AfterAll
    static void stop() {
        server.close();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        ((Logger) LoggerFactory.getLogger("io.spillway")).setLevel(spillwayLevel);
    }

    private static Map<String, Object> config(final String userInfo) {
        final Map<String, Object> config = new HashMap<>();
        config.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION, certificates.trustStore().toString());
        config.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD, TRUST_STORE_PASSWORD);
        config.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_TYPE, "PKCS12");
        if (userInfo != null) {
            config.put(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO");
            config.put(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, userInfo);
        }
        return config;
    }

    @Test
    void httpsWithTheTrustStoreAndBasicAuthServesTheSerde() {
        assertThat(server.url().getScheme()).isEqualTo("https");
        try (SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), config("alice:" + PASSWORD));
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class, client, false);
             SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class, client, false)) {
            final int id = client.register("thing-value", THING);
            assertThat(client.getById(id)).isEqualTo(THING);
            final Event event = SampleRecords.event();
            assertThat(deserializer.deserialize("events", serializer.serialize("events", event))).isEqualTo(event);
            assertThat(client.toString()).doesNotContain(PASSWORD, TRUST_STORE_PASSWORD);
        }
    }

    @Test
    void aWrongPasswordOrNoneIsAClear401AndNotAnOutage() {
        for (final Map<String, Object> config : List.of(config("alice:wrong-" + PASSWORD), config(null))) {
            try (SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), config)) {
                assertThatThrownBy(client::subjects).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e).isNotInstanceOf(SchemaRegistryUnavailableException.class);
                    assertThat(e.httpStatus()).isEqualTo(401);
                    assertThat(e.getMessage()).contains("HTTP 401").contains("basic.auth").doesNotContain(PASSWORD);
                });
                assertThat(client.stats().requests()).as("a refusal is not retried").isEqualTo(1);
                assertThat(client.stats().errors()).isEqualTo(1);
            }
        }
    }

    @Test
    void aPlainHttpClientOnTheHttpsPortIsToldToUseHttps() {
        final String plain = server.url().toString().replace("https://", "http://");
        try (SchemaRegistryClient client = SchemaRegistryClients.create(plain, config("alice:" + PASSWORD))) {
            assertThatThrownBy(client::subjects).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                assertThat(e).isNotInstanceOf(SchemaRegistryUnavailableException.class);
                assertThat(e.httpStatus()).isEqualTo(400);
                assertThat(e.getMessage()).contains("https://");
            });
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFailsClearlyWithoutRetrying() {
        final Map<String, Object> untrusting = new HashMap<>(Map.of(
            SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "alice:" + PASSWORD));
        try (SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), untrusting)) {
            assertThatThrownBy(client::subjects).isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                assertThat(e).isNotInstanceOf(SchemaRegistryUnavailableException.class);
                assertThat(e.getMessage()).contains("TLS handshake").contains(SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION);
            });
            assertThat(client.stats().requests()).isEqualTo(1);
        }
    }

    @Test
    void aWrongTrustStorePasswordIsAConfigurationErrorThatDoesNotRepeatIt() {
        final Map<String, Object> config = config("alice:" + PASSWORD);
        config.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD, "not-" + TRUST_STORE_PASSWORD);
        assertThatThrownBy(() -> SchemaRegistryClients.create(server.url().toString(), config))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(certificates.trustStore().toString())
            .satisfies(e -> assertThat(messages(e)).doesNotContain(TRUST_STORE_PASSWORD));
    }

    @Test
    void credentialsInTheUrlWorkButAreWarnedAboutWithoutBeingShown() {
        final String withUser = server.url().toString().replace("https://", "https://alice:" + PASSWORD + "@");
        final int before = logs.list.size();
        try (SchemaRegistryClient client = SchemaRegistryClients.create(withUser, config(null))) {
            assertThat(client.subjects()).isNotNull();
            assertThat(client.toString()).doesNotContain(PASSWORD).doesNotContain("alice");
        }
        assertThat(logs.list.subList(before, logs.list.size())).anySatisfy(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).contains("basic.auth.user.info");
        });
    }

    @Test
    void noSecretAppearsInAnyLogLineOrMessage() {
        final List<String> seen = new ArrayList<>();
        // Every failure mode once, with the secrets configured.
        final String withUser = server.url().toString().replace("https://", "https://alice:" + PASSWORD + "@");
        for (final String url : List.of(server.url().toString(), withUser)) {
            try (SchemaRegistryClient client = SchemaRegistryClients.create(url, config("alice:" + PASSWORD))) {
                client.register("secret-check-value", THING);
                seen.add(client.toString());
            }
            try (SchemaRegistryClient client = SchemaRegistryClients.create(url, config("alice:x" + PASSWORD))) {
                seen.add(messages(catchThrowable(client::subjects)));
            }
        }
        final String down = "https://alice:" + PASSWORD + "@127.0.0.1:1";
        try (SchemaRegistryClient client = SchemaRegistryClients.create(down, config("alice:" + PASSWORD))) {
            seen.add(messages(catchThrowable(() -> client.getById(1))));
            seen.add(client.toString());
        }
        seen.add(messages(catchThrowable(() -> SchemaRegistryClients.create("ht!tp://alice:" + PASSWORD + "@x", Map.of()))));
        for (final ILoggingEvent event : List.copyOf(logs.list)) {
            seen.add(event.getFormattedMessage());
            if (event.getThrowableProxy() != null) {
                seen.add(ThrowableProxyUtil.asString(event.getThrowableProxy()));
            }
        }
        final String basicHeader = Base64.getEncoder().encodeToString(("alice:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        assertThat(seen).hasSizeGreaterThan(8);
        assertThat(String.join("\n", seen)).doesNotContain(PASSWORD, KEY_STORE_PASSWORD, TRUST_STORE_PASSWORD, basicHeader);
    }

    private static Throwable catchThrowable(final ThrowingCallable call) {
        final Throwable thrown = Assertions.catchThrowable(call);
        assertThat(thrown).isNotNull();
        return thrown;
    }

    private static String messages(final Throwable failure) {
        final StringBuilder out = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            out.append(t).append('\n');
        }
        return out.toString();
    }
}
