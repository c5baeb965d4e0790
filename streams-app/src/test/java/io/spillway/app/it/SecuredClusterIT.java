package io.spillway.app.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.cli.SpillwayCli;
import io.spillway.app.demo.SequenceGenerator;
import io.spillway.app.embedded.EmbeddedKafka;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.registry.SchemaRegistryClientConfig;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.SpecificAvroSerializer;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The app ({@code spillway run} in a JVM of its own) against a broker whose only client listener is SASL_SSL
 * (SCRAM-SHA-512 over TLS with the test's own CA) and the project's schema registry over HTTPS with basic
 * authentication (a certificate of the same CA). Every client setting, passwords included, and the operations
 * endpoint's token come from the {@code --config} file. The app trains end to end, and no secret shows in its log
 * (Kafka's configuration dumps at INFO included), its {@code /metrics}, its dashboard and {@code /api/history}, or its
 * command line.
 */
class SecuredClusterIT {
    private static final String SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"%s\" password=\"%s\";";
    private static final Pattern EVENTS_TRAINED = Pattern.compile("(?m)^spillway_training_events_trained ([0-9.E]+)");
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void trainsOverSaslSslWithEverySecretInTheConfigFileAndNowhereElse(@TempDir final Path dir) throws Exception {
        final TestCertificates tls = TestCertificates.create(Files.createDirectories(dir.resolve("tls")));
        final String brokerPassword = TestCertificates.randomSecret();
        final String appPassword = TestCertificates.randomSecret();
        final String opsToken = "ops-token-" + TestCertificates.randomSecret();
        final String registryPassword = TestCertificates.randomSecret();
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().baseDirectory(dir.resolve("kafka"))
                .brokerProtocol(SecurityProtocol.SASL_SSL)
                .config("sasl.enabled.mechanisms", "SCRAM-SHA-512")
                .config("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512")
                .config("listener.name.broker.scram-sha-512.sasl.jaas.config", SCRAM.formatted("broker", brokerPassword))
                .config("ssl.keystore.type", "PKCS12")
                .config("ssl.keystore.location", tls.keyStore().toString())
                .config("ssl.keystore.password", tls.password())
                .config("ssl.key.password", tls.password())
                .config("ssl.truststore.type", "PKCS12")
                .config("ssl.truststore.location", tls.trustStore().toString())
                .config("ssl.truststore.password", tls.password())
                .scramCredential("SCRAM-SHA-512=[name=broker,password=" + brokerPassword + "]")
                .scramCredential("SCRAM-SHA-512=[name=spillway,password=" + appPassword + "]")
                .start();
             SchemaRegistryServer registry = SchemaRegistryServer.builder().storeFile(dir.resolve("schemas.jsonl"))
                     .tls(tls.keyStore(), tls.password()).basicAuth("spillway", registryPassword).start()) {
            assertThat(registry.url().getScheme()).isEqualTo("https");
            final Map<String, Object> client = clientSettings(kafka, tls, appPassword);
            final Map<String, Object> serde = registrySettings(registry, tls, registryPassword);

            final Map<String, Object> wrong = new HashMap<>(client);
            wrong.put("sasl.jaas.config", SCRAM.formatted("spillway", "not-the-password"));
            try (Admin admin = Admin.create(wrong)) {
                assertThatThrownBy(() -> admin.describeCluster().nodes().get(60, TimeUnit.SECONDS))
                        .as("the listener authenticates").isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(SaslAuthenticationException.class);
            }

            final Path config = dir.resolve("spillway.properties");
            final Properties settings = new Properties();
            client.forEach((k, v) -> settings.setProperty(k, v.toString()));
            serde.forEach((k, v) -> {
                if (!k.equals(SerdeConfig.SCHEMA_REGISTRY_URL)) {
                    settings.setProperty(k, v.toString());
                }
            });
            settings.setProperty("spillway.ops.auth.token", opsToken);
            try (OutputStream out = Files.newOutputStream(config)) {
                settings.store(out, "SASL_SSL client settings of the app");
            }
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            final List<String> secrets = List.of(appPassword, brokerPassword, tls.password(), opsToken, registryPassword);
            assertThat(Files.readString(config)).as("the secrets are in the config file")
                    .contains(appPassword).contains(tls.password()).contains(opsToken).contains(registryPassword);

            final int opsPort = freePort();
            final Path logConfig = Files.writeString(dir.resolve("logback.xml"), """
                    <configuration>
                      <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
                      </appender>
                      <root level="INFO"><appender-ref ref="OUT"/></root>
                    </configuration>
                    """);
            final Path log = dir.resolve("app.log");
            final List<String> args = List.of("run", "--bootstrap-servers=" + kafka.bootstrapServers(),
                    "--schema-registry-url=" + registry.url(), "--config=" + config, "--ops-port=" + opsPort,
                    "--application-id=secured", "--state-dir=" + dir.resolve("state"), "--warm-up=PT0S",
                    "--partitions=2", "--replication-factor=1", "--vocabulary=8", "--features=16", "--hidden-size=32",
                    "--chunk-length=32", "--batch-keys=2", "--max-chunk-wait=PT0.5S", "--snapshot-every=20");
            final String commandLine;
            final Map<String, String> surfaces = new LinkedHashMap<>();
            final Process app = startApp(List.of("-Dlogback.configurationFile=" + logConfig), args, log);
            try {
                final URI ops = URI.create("http://127.0.0.1:" + opsPort + "/");
                TestApps.await("the app's operations endpoint", Duration.ofSeconds(180), () -> ready(ops));
                produce(client, serde, 4_000);
                TestApps.await("events trained over SASL_SSL", Duration.ofSeconds(240),
                        () -> eventsTrained(ops, opsToken) >= 2_000);
                assertThat(get(ops, "metrics", null).statusCode()).as("metrics need the token").isEqualTo(401);
                surfaces.put("/metrics", get(ops, "metrics", opsToken).body());
                surfaces.put("/api/history", get(ops, "api/history", opsToken).body());
                surfaces.put("/dashboard", get(ops, "dashboard", opsToken).body());
                surfaces.put("/health", get(ops, "health", null).body());
                commandLine = commandLine(app);
                app.destroy(); // SIGTERM: a clean stop
                assertThat(app.waitFor(120, TimeUnit.SECONDS)).as("stopped within 120 s of SIGTERM").isTrue();
            } finally {
                app.destroyForcibly();
                app.waitFor();
            }
            assertThat(app.exitValue()).as("exit status after SIGTERM").isIn(0, 143);
            final List<TrainingMetrics> steps = TestApps.readAll(client, serde, "training-metrics",
                    TrainingMetrics.class).stream().map(r -> r.value()).toList();
            assertThat(steps).as("training metrics published over SASL_SSL").isNotEmpty();
            assertThat(surfaces.get("/api/history")).contains("\"steps\":[{");

            // the terminal's lines, and the log file Kafka's own lines go to (its path printed at start)
            final Path kafkaLog = dir.resolve("state").resolve("secured.log");
            assertThat(kafkaLog).as("Kafka's log file").exists();
            final String output = Files.readString(log, StandardCharsets.UTF_8) + "\n"
                    + Files.readString(kafkaLog, StandardCharsets.UTF_8);
            assertThat(output).as("Kafka's configuration dumps are in the logs, passwords hidden")
                    .contains("security.protocol = SASL_SSL").contains("sasl.jaas.config = [hidden]")
                    .contains("ssl.truststore.password = [hidden]").contains("Spillway stopped");
            assertThat(commandLine).contains("--config=" + config);
            surfaces.put("log", output);
            surfaces.put("command line", commandLine);
            for (final Map.Entry<String, String> surface : surfaces.entrySet()) {
                for (final String secret : secrets) {
                    assertThat(surface.getValue()).as("%s holds no secret", surface.getKey()).doesNotContain(secret);
                }
            }
        }
    }

    /**
     * {@code spillway} in a JVM of its own with the test's JVM options and class path, its output straight into
     * {@code log}.
     */
    private static Process startApp(final List<String> jvmOptions, final List<String> args, final Path log)
            throws Exception {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-Xmx") && !arg.startsWith("-agentlib") && !arg.startsWith("-javaagent")) {
                command.add(arg);
            }
        }
        command.addAll(jvmOptions);
        command.addAll(List.of("-Xmx768m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                SpillwayCli.class.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The whole command line (ProcessHandle.Info cuts it at a page; /proc has it all), arguments space-separated. */
    private static String commandLine(final Process p) throws Exception {
        final Path proc = Path.of("/proc", Long.toString(p.pid()), "cmdline");
        if (Files.isReadable(proc)) {
            return new String(Files.readAllBytes(proc), StandardCharsets.UTF_8).replace('\0', ' ');
        }
        return p.info().commandLine().orElseThrow();
    }

    private static Map<String, Object> clientSettings(final EmbeddedKafka kafka, final TestCertificates tls,
                                                      final String password) {
        final Map<String, Object> client = new LinkedHashMap<>();
        client.put("bootstrap.servers", kafka.bootstrapServers());
        client.put("security.protocol", "SASL_SSL");
        client.put("sasl.mechanism", "SCRAM-SHA-512");
        client.put("sasl.jaas.config", SCRAM.formatted("spillway", password));
        client.put("ssl.truststore.type", "PKCS12");
        client.put("ssl.truststore.location", tls.trustStore().toString());
        client.put("ssl.truststore.password", tls.password());
        return client;
    }

    /** The registry client's settings: its URL, basic authentication and a trust store holding the test's CA. */
    private static Map<String, Object> registrySettings(final SchemaRegistryServer registry, final TestCertificates tls,
                                                        final String password) {
        final Map<String, Object> serde = new LinkedHashMap<>();
        serde.put(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url().toString());
        serde.put(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO");
        serde.put(SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO, "spillway:" + password);
        serde.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_LOCATION, tls.trustStore().toString());
        serde.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_PASSWORD, tls.password());
        serde.put(SchemaRegistryClientConfig.SSL_TRUSTSTORE_TYPE, "PKCS12");
        return serde;
    }

    /** An authenticated producer's events, Avro through the registry. */
    private static void produce(final Map<String, Object> client, final Map<String, Object> serde, final int n) {
        final SequenceGenerator generator = new SequenceGenerator(8, 8, 16, 0.05, 21);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(client, new StringSerializer(),
                new ByteArraySerializer());
             SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(serde, false);
            for (int i = 0; i < n; i++) {
                final Event e = generator.next();
                producer.send(new ProducerRecord<>("events", e.getEntityId(), serializer.serialize("events", e)));
            }
        }
    }

    private boolean ready(final URI ops) {
        try {
            return get(ops, "ready", null).statusCode() == 200;
        } catch (final Exception notYet) {
            return false;
        }
    }

    private long eventsTrained(final URI ops, final String token) {
        try {
            final Matcher m = EVENTS_TRAINED.matcher(get(ops, "metrics", token).body());
            return m.find() && !m.group(1).equals("NaN") ? (long) Double.parseDouble(m.group(1)) : 0;
        } catch (final Exception notYet) {
            return 0;
        }
    }

    private HttpResponse<String> get(final URI base, final String path, final String token) throws Exception {
        final HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
