package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.serde.SerdeException.Reason;
import io.spillway.schemas.serde.internals.WireFormat;
import io.spillway.schemas.testing.SampleRecords;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every failure mode of the serde maps to exactly one reason with a clear message. */
class SerdeFailureModesTest {
    private static final String SCOPE = "serde-failures";
    private static final String SPARSE = "{\"type\":\"record\",\"name\":\"SparseVector\",\"namespace\":\"io.spillway.schemas.avro\","
        + "\"fields\":[{\"name\":\"indices\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
        + "{\"name\":\"values\",\"type\":{\"type\":\"array\",\"items\":\"float\"}}]}";

    private SchemaRegistryClient client;
    private SpecificAvroSerializer<Event> serializer;
    private SpecificAvroDeserializer<Event> deserializer;

    @BeforeEach
    void setUp() {
        client = SchemaRegistryClients.create("mock://" + SCOPE, Map.of());
        serializer = new SpecificAvroSerializer<>(Event.class, client, false);
        deserializer = new SpecificAvroDeserializer<>(Event.class, client, false);
    }

    @AfterEach
    void tearDown() {
        serializer.close();
        deserializer.close();
        client.close();
        SchemaRegistryClients.dropMockScope(SCOPE);
    }

    private static Schema eventSchema(final String extraFields, final String entityIdType, final boolean withLabel) {
        return new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Event\",\"namespace\":\"io.spillway.schemas.avro\","
            + "\"fields\":[{\"name\":\"entityId\",\"type\":\"" + entityIdType + "\"},"
            + "{\"name\":\"timestampMs\",\"type\":\"long\"},{\"name\":\"eventType\",\"type\":\"int\"},"
            + "{\"name\":\"features\",\"type\":" + SPARSE + "}"
            + (withLabel ? ",{\"name\":\"label\",\"type\":[\"null\",\"int\"],\"default\":null}" : "")
            + extraFields + "]}");
    }

    private static GenericRecord genericEvent(final Schema schema, final Object entityId) {
        final GenericRecord features = new GenericData.Record(schema.getField("features").schema());
        features.put("indices", Arrays.asList(1, 2));
        features.put("values", Arrays.asList(0.5f, 0.25f));
        final GenericRecord event = new GenericData.Record(schema);
        event.put("entityId", entityId);
        event.put("timestampMs", 10L);
        event.put("eventType", 4);
        event.put("features", features);
        return event;
    }

    private static byte[] frame(final int id, final Schema schema, final GenericRecord record) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final byte[] header = new byte[WireFormat.HEADER_SIZE];
        WireFormat.writeHeader(header, id);
        out.write(header);
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private SerdeException failure(final byte[] data) {
        final Throwable thrown = org.junit.jupiter.api.Assertions.assertThrows(SerdeException.class,
            () -> deserializer.deserialize("events", data));
        return (SerdeException) thrown;
    }

    @Test
    void wrongMagicByte() {
        final SerdeException e = failure("{\"entityId\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(e.reason()).isEqualTo(Reason.WRONG_MAGIC_BYTE);
        assertThat(e.schemaId()).isEqualTo(-1);
        assertThat(e.getMessage()).startsWith(
            "wrong magic byte 0x7b at offset 0: not Confluent Avro wire format (expected 0x00)").contains("on topic 'events'");
    }

    @Test
    void wrongMagicByteWinsOverShortness() {
        assertThat(failure(new byte[] {1, 0}).reason()).isEqualTo(Reason.WRONG_MAGIC_BYTE);
    }

    @Test
    void tooShort() {
        final SerdeException empty = failure(new byte[0]);
        assertThat(empty.reason()).isEqualTo(Reason.TOO_SHORT);
        assertThat(empty.getMessage()).contains("payload of 0 bytes is too short");
        final SerdeException four = failure(new byte[] {0, 0, 0, 1});
        assertThat(four.reason()).isEqualTo(Reason.TOO_SHORT);
        assertThat(four.getMessage()).contains("payload of 4 bytes").contains("at least 5").contains("on topic 'events'");
    }

    @Test
    void unknownSchemaId() {
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        WireFormat.writeHeader(bytes, 4242);
        final SerdeException e = failure(bytes);
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_SCHEMA_ID);
        assertThat(e.schemaId()).isEqualTo(4242);
        assertThat(e.getMessage()).contains("schema id 4242 is not known").contains("on topic 'events'");
    }

    @Test
    void truncatedBodyIsMalformed() {
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        final SerdeException e = failure(Arrays.copyOf(bytes, bytes.length - 3));
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED_AVRO);
        assertThat(e.schemaId()).isEqualTo(WireFormat.readSchemaId(bytes));
        assertThat(e.getMessage()).contains("malformed Avro body for schema id " + WireFormat.readSchemaId(bytes))
            .contains("on topic 'events'");
    }

    @Test
    void headerOnlyIsMalformed() {
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        assertThat(failure(Arrays.copyOf(bytes, 5)).reason()).isEqualTo(Reason.MALFORMED_AVRO);
    }

    @Test
    void trailingBytesAreMalformed() {
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        final byte[] longer = Arrays.copyOf(bytes, bytes.length + 2);
        final SerdeException e = failure(longer);
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED_AVRO);
        assertThat(e.getMessage()).contains("bytes left over");
    }

    @Test
    void garbageLengthIsMalformedNotACrash() {
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        // entityId's length varint: make it negative (zig-zag 0x01 = -1).
        bytes[5] = 0x01;
        assertThat(failure(bytes).reason()).isEqualTo(Reason.MALFORMED_AVRO);
    }

    @Test
    void incompatibleWriterSchema() throws IOException {
        final Schema writer = eventSchema("", "int", true);
        client.setCompatibility("other-value", CompatibilityLevel.NONE);
        final int id = client.register("other-value", writer);
        final SerdeException e = failure(frame(id, writer, genericEvent(writer, 7)));
        assertThat(e.reason()).isEqualTo(Reason.INCOMPATIBLE_SCHEMA);
        assertThat(e.schemaId()).isEqualTo(id);
        assertThat(e.getMessage()).contains("writer schema id " + id).contains("cannot be read as io.spillway.schemas.avro.Event")
            .contains("entityId");
    }

    @Test
    void olderWriterWithoutLabelReadsWithDefault() throws IOException {
        final Schema older = eventSchema("", "string", false);
        final int id = client.register("legacy-value", older);
        final Event read = deserializer.deserialize("events", frame(id, older, genericEvent(older, "e-1")));
        assertThat(read.getEntityId()).isEqualTo("e-1");
        assertThat(read.getLabel()).isNull();
        assertThat(read.getFeatures().getValues()).containsExactly(0.5f, 0.25f);
    }

    @Test
    void newerWriterWithExtraFieldIsResolved() throws IOException {
        final Schema newer = eventSchema(",{\"name\":\"source\",\"type\":\"string\",\"default\":\"\"}", "string", true);
        final int id = client.register("newer-value", newer);
        final GenericRecord record = genericEvent(newer, "e-2");
        record.put("label", 9);
        record.put("source", "web");
        final Event read = deserializer.deserialize("events", frame(id, newer, record));
        assertThat(read.getEntityId()).isEqualTo("e-2");
        assertThat(read.getLabel()).isEqualTo(9);
    }

    @Test
    void serializerSurfacesIncompatibleSubject() {
        final Schema incompatible = eventSchema("", "int", true);
        client.register("events-value", incompatible);
        assertThatThrownBy(() -> serializer.serialize("events", SampleRecords.event()))
            .isInstanceOfSatisfying(SerdeException.class, e -> {
                assertThat(e.reason()).isEqualTo(Reason.INCOMPATIBLE_SCHEMA);
                assertThat(e.getMessage()).contains("events-value").contains("BACKWARD");
            });
    }

    @Test
    void serializerWithoutAutoRegisterNeedsRegisteredSchema() {
        serializer.configure(Map.of(SerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);
        assertThatThrownBy(() -> serializer.serialize("events", SampleRecords.event()))
            .isInstanceOfSatisfying(SerdeException.class, e -> {
                assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_SCHEMA_ID);
                assertThat(e.getMessage()).contains("not registered under subject 'events-value'");
            });
        final int id = client.register("events-value", Event.getClassSchema());
        assertThat(WireFormat.readSchemaId(serializer.serialize("events", SampleRecords.event()))).isEqualTo(id);
        assertThat(client.versions("events-value")).containsExactly(1);
    }

    @Test
    void useLatestVersionWritesWithTheSubjectsLatestSchema() {
        client.register("events-value", Event.getClassSchema());
        final Schema newer = eventSchema(",{\"name\":\"source\",\"type\":\"string\",\"default\":\"none\"}", "string", true);
        final int latestId = client.register("events-value", newer);
        serializer.configure(Map.of(SerdeConfig.USE_LATEST_VERSION, true, SerdeConfig.AUTO_REGISTER_SCHEMAS, false), false);
        final byte[] bytes = serializer.serialize("events", SampleRecords.event());
        assertThat(WireFormat.readSchemaId(bytes)).isEqualTo(latestId);
        assertThat(deserializer.deserialize("events", bytes)).isEqualTo(SampleRecords.event());
    }

    @Test
    void invalidRecordToWriteIsMalformed() {
        final Event bad = SampleRecords.event();
        bad.setEntityId(null);
        assertThatThrownBy(() -> serializer.serialize("events", bad))
            .isInstanceOfSatisfying(SerdeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED_AVRO));
    }
}
