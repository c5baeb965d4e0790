package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.Prediction;
import io.spillway.schemas.avro.SparseVector;
import io.spillway.schemas.avro.TrainingMetrics;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.internals.WireFormat;
import io.spillway.schemas.testing.SampleRecords;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confluent's own Python client (Debian's python3-confluent-kafka, legacy Avro API) as a peer of our
 * registry server and serdes, without a broker: values cross the process boundary as hex lines.
 * The peer script, {@code src/test/python/registry_peer.py}, is written to be reused by other tests.
 */
class ConfluentPythonPeerIT {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path PEER = Path.of("src", "test", "python", "registry_peer.py");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    static Path dir;

    private static SchemaRegistryServer server;

    @BeforeAll
    static void startRegistryIfThePeerCanRun() throws IOException, InterruptedException {
        assumePeer(Files.isExecutable(PYTHON), "Confluent Python peer test skipped: /usr/bin/python3 is not installed");
        final PeerRun probe = python(List.of("-c", "import confluent_kafka.avro, avro, requests"), "");
        assumePeer(probe.exitCode == 0, "Confluent Python peer test skipped: the system interpreter lacks Debian's "
            + "python3-confluent-kafka, python3-avro or python3-requests: " + probe.stderr.strip());
        assertThat(PEER).as("peer script (tests run in the module directory)").isRegularFile();
        server = SchemaRegistryServer.start(null, dir.resolve("registry.jsonl"));
    }

    @AfterAll
    static void stopRegistry() {
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, Object> serdeConfig() {
        return Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, server.url().toString());
    }

    @Test
    void pythonRegistersAndEncodesEventsThatJavaDecodes() throws Exception {
        final Path schema = writeSchema("event.avsc", Event.getClassSchema());
        final String input = """
            {"entityId": "py-1", "timestampMs": 1700000000123, "eventType": 3, \
            "features": {"indices": [1, 5, 42], "values": [0.5, -1.25, 3.0]}, "label": 2}
            {"entityId": "py-2", "timestampMs": 1700000000456, "eventType": 0, \
            "features": {"indices": [], "values": []}, "label": null}
            """;
        final PeerRun run = peer(List.of("encode", server.url().toString(), "py-events", schema.toString()), input);
        final List<JsonNode> out = run.jsonLines();
        assertThat(out).hasSize(2);

        final int id = out.get(0).get("schema_id").asInt();
        assertThat(out.get(1).get("schema_id").asInt()).isEqualTo(id);
        try (SchemaRegistryClient client = SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            assertThat(client.versions("py-events-value")).as("Python registered under TopicNameStrategy")
                .containsExactly(1);
            assertThat(client.getById(id)).isEqualTo(Event.getClassSchema());
        }

        final Event first = Event.newBuilder().setEntityId("py-1").setTimestampMs(1_700_000_000_123L).setEventType(3)
            .setFeatures(SparseVector.newBuilder().setIndices(List.of(1, 5, 42)).setValues(List.of(0.5f, -1.25f, 3.0f))
                .build())
            .setLabel(2).build();
        final Event second = Event.newBuilder().setEntityId("py-2").setTimestampMs(1_700_000_000_456L).setEventType(0)
            .setFeatures(SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build())
            .setLabel(null).build();
        try (SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class)) {
            deserializer.configure(serdeConfig(), false);
            assertThat(deserializer.deserialize("py-events", HEX.parseHex(out.get(0).get("hex").asText())))
                .isEqualTo(first);
            assertThat(deserializer.deserialize("py-events", HEX.parseHex(out.get(1).get("hex").asText())))
                .isEqualTo(second);
        }
    }

    @Test
    void anOlderWriterSchemaFromPythonIsResolvedToTheCurrentEvent() throws Exception {
        // Written by hand, without the optional label: what an older producer would register.
        final Path schema = Files.writeString(dir.resolve("event-v0.avsc"), """
            {"type": "record", "name": "Event", "namespace": "io.spillway.schemas.avro", "fields": [
              {"name": "entityId", "type": "string"},
              {"name": "timestampMs", "type": "long"},
              {"name": "eventType", "type": "int"},
              {"name": "features", "type": {"type": "record", "name": "SparseVector", "fields": [
                {"name": "indices", "type": {"type": "array", "items": "int"}},
                {"name": "values", "type": {"type": "array", "items": "float"}}]}}]}
            """, StandardCharsets.UTF_8);
        final String input = """
            {"entityId": "old-1", "timestampMs": 5, "eventType": 7, "features": {"indices": [9], "values": [0.25]}}
            """;
        final JsonNode out = peer(List.of("encode", server.url().toString(), "py-legacy", schema.toString()), input)
            .jsonLines().get(0);
        final byte[] value = HEX.parseHex(out.get("hex").asText());
        assertThat(WireFormat.readSchemaId(value)).isEqualTo(out.get("schema_id").asInt());
        try (SpecificAvroDeserializer<Event> deserializer = new SpecificAvroDeserializer<>(Event.class)) {
            deserializer.configure(serdeConfig(), false);
            final Event read = deserializer.deserialize("py-legacy", value);
            assertThat(read.getEntityId()).isEqualTo("old-1");
            assertThat(read.getEventType()).isEqualTo(7);
            assertThat(read.getFeatures().getValues()).containsExactly(0.25f);
            assertThat(read.getLabel()).as("label takes its default").isNull();
        }
    }

    @Test
    void javaEncodesTrainingMetricsThatPythonDecodes() throws Exception {
        final TrainingMetrics metrics = SampleRecords.metrics();
        final TrainingMetrics noLag = TrainingMetrics.newBuilder(metrics).setConsumerLag(null).setModelVersion(13).build();
        final List<byte[]> values = new ArrayList<>();
        try (SpecificAvroSerializer<TrainingMetrics> serializer = new SpecificAvroSerializer<>(TrainingMetrics.class)) {
            serializer.configure(serdeConfig(), false);
            values.add(serializer.serialize("java-metrics", metrics));
            values.add(serializer.serialize("java-metrics", noLag));
        }
        final String input = HEX.formatHex(values.get(0)) + "\n" + HEX.formatHex(values.get(1)) + "\n";
        final List<JsonNode> out = peer(List.of("decode", server.url().toString()), input).jsonLines();
        assertThat(out).hasSize(2);

        final JsonNode first = out.get(0);
        assertThat(first.get("schema_id").asInt()).isEqualTo(WireFormat.readSchemaId(values.get(0)));
        assertThat(first.get("schema_name").asText()).isEqualTo("io.spillway.schemas.avro.TrainingMetrics");
        final JsonNode record = first.get("record");
        assertThat(record.get("modelId").asText()).isEqualTo("m1");
        assertThat(record.get("instanceId").asText()).isEqualTo("i-0");
        assertThat(record.get("modelVersion").asLong()).isEqualTo(12);
        assertThat(record.get("optimizer").asText()).isEqualTo("efcp-mfac");
        assertThat(record.get("checkpointSchedule").asText()).isEqualTo("double(Cr=256,Cl=16)");
        assertThat(record.get("eventsTrained").asLong()).isEqualTo(50_000);
        assertThat(record.get("loss").asDouble()).isEqualTo(1.25);
        assertThat(record.get("eventsPerSecond").asDouble()).isEqualTo(12_345.5);
        assertThat(record.get("consumerLag").asLong()).isEqualTo(77);
        assertThat(record.get("offChipBytes").asLong()).isEqualTo(1L << 31);
        assertThat(record.get("recomputeRatio").asDouble()).isEqualTo(0.8);
        assertThat(record.size()).as("every field, no more").isEqualTo(TrainingMetrics.getClassSchema().getFields().size());

        final JsonNode second = out.get(1).get("record");
        assertThat(second.get("consumerLag").isNull()).isTrue();
        assertThat(second.get("modelVersion").asLong()).isEqualTo(13);
    }

    @Test
    void confluentsClientCallsAgreeWithTheRegistry() throws Exception {
        final Path schema = writeSchema("prediction.avsc", Prediction.getClassSchema());
        final JsonNode seen = peer(List.of("probe", server.url().toString(), "probe-value", schema.toString()), "")
            .jsonLines().get(0);
        final int id = seen.get("schema_id").asInt();
        assertThat(id).isPositive();
        assertThat(seen.get("register_again_id").asInt()).isEqualTo(id);
        assertThat(seen.get("latest_id").asInt()).isEqualTo(id);
        assertThat(seen.get("latest_version").asInt()).isEqualTo(1);
        assertThat(seen.get("latest_name").asText()).isEqualTo("io.spillway.schemas.avro.Prediction");
        assertThat(seen.get("by_id_name").asText()).isEqualTo("io.spillway.schemas.avro.Prediction");
        assertThat(seen.get("version_of_schema").asInt()).isEqualTo(1);
        assertThat(seen.get("compatible_with_itself").asBoolean()).isTrue();
        assertThat(seen.get("global_compatibility").asText()).isEqualTo("BACKWARD");
        assertThat(seen.get("set_subject_compatibility").asText()).isEqualTo("FULL");
        assertThat(seen.get("subject_compatibility").asText()).isEqualTo("FULL");
    }

    @Test
    void pythonFailsClearlyOnAnIdOurRegistryDoesNotKnow() throws Exception {
        final byte[] value;
        try (SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            serializer.configure(serdeConfig(), false);
            value = serializer.serialize("java-events", SampleRecords.event());
        }
        WireFormat.writeHeader(value, 424_242);
        final PeerRun run = python(List.of(PEER.toString(), "decode", server.url().toString()),
            HEX.formatHex(value) + "\n");
        assertThat(run.exitCode).as(run.stderr).isNotZero();
        assertThat(run.stderr).contains("424242");
    }

    private static Path writeSchema(final String name, final Schema schema) throws IOException {
        return Files.writeString(dir.resolve(name), schema.toString(), StandardCharsets.UTF_8);
    }

    private static PeerRun peer(final List<String> args, final String stdin) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>();
        command.add(PEER.toString());
        command.addAll(args);
        final PeerRun run = python(command, stdin);
        assertThat(run.exitCode).as("peer %s failed: %s", args.get(0), run.stderr).isZero();
        return run;
    }

    private static PeerRun python(final List<String> args, final String stdin) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>();
        command.add(PYTHON.toString());
        command.addAll(args);
        final ProcessBuilder builder = new ProcessBuilder(command);
        // The system interpreter must not pick up a virtual environment or user site of the caller.
        builder.environment().remove("PYTHONPATH");
        builder.environment().remove("PYTHONHOME");
        builder.environment().put("PYTHONNOUSERSITE", "1");
        final Process process = builder.start();
        final CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> readAll(process, true));
        final CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(process, false));
        try (OutputStream in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("python peer did not finish within 60 s: " + command);
        }
        return new PeerRun(process.exitValue(), stdout.join(), stderr.join());
    }

    private static String readAll(final Process process, final boolean stdout) {
        try {
            return new String((stdout ? process.getInputStream() : process.getErrorStream()).readAllBytes(),
                StandardCharsets.UTF_8);
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private record PeerRun(int exitCode, String stdout, String stderr) {
        List<JsonNode> jsonLines() throws IOException {
            final List<JsonNode> lines = new ArrayList<>();
            for (final String line : stdout.split("\n")) {
                if (!line.isBlank()) {
                    lines.add(JSON.readTree(line));
                }
            }
            return lines;
        }
    }
}
