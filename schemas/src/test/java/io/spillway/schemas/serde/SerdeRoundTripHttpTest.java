package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.internals.HeaderSchemaId;
import io.spillway.schemas.serde.internals.WireFormat;
import io.spillway.schemas.testing.SampleRecords;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The serdes against the real registry server over HTTP on 127.0.0.1. */
class SerdeRoundTripHttpTest {
    private static SchemaRegistryServer server;

    @BeforeAll
    static void startServer() {
        server = SchemaRegistryServer.start(new InetSocketAddress("127.0.0.1", 0), null);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    static Stream<SpecificRecord> records() {
        return SampleRecords.all().stream();
    }

    private static Map<String, Object> config() {
        return Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, server.url().toString());
    }

    @ParameterizedTest
    @MethodSource("records")
    void roundTripsEveryRecordType(final SpecificRecord record) {
        roundTrip(record);
    }

    @SuppressWarnings("unchecked")
    private static <T extends SpecificRecord> void roundTrip(final T record) {
        final Class<T> type = (Class<T>) record.getClass();
        final String topic = "http-" + type.getSimpleName();
        // Separately configured serializer and deserializer, as two Kafka clients would be.
        try (SpecificAvroSerializer<T> serializer = new SpecificAvroSerializer<>(type);
             SpecificAvroDeserializer<T> deserializer = new SpecificAvroDeserializer<>(type)) {
            serializer.configure(config(), false);
            deserializer.configure(config(), false);
            final byte[] bytes = serializer.serialize(topic, record);
            assertThat(bytes[0]).isZero();
            assertThat(WireFormat.readSchemaId(bytes)).isPositive();
            assertThat(deserializer.deserialize(topic, bytes)).isEqualTo(record);
        }
    }

    @Test
    void nullsAndTombstones() {
        try (SpecificAvroSerde<Event> serde = new SpecificAvroSerde<>(Event.class)) {
            serde.configure(config(), false);
            assertThat(serde.serializer().serialize("http-null", null)).isNull();
            assertThat(serde.deserializer().deserialize("http-null", null)).isNull();
        }
    }

    @Test
    void unknownIdOverHttpIsUnknownSchemaId() {
        try (SpecificAvroSerde<Event> serde = new SpecificAvroSerde<>(Event.class)) {
            serde.configure(config(), false);
            final byte[] bytes = serde.serializer().serialize("http-unknown", SampleRecords.event());
            WireFormat.writeHeader(bytes, 987_654);
            final SerdeException e = org.junit.jupiter.api.Assertions.assertThrows(SerdeException.class,
                () -> serde.deserializer().deserialize("http-unknown", bytes));
            assertThat(e.reason()).isEqualTo(SerdeException.Reason.UNKNOWN_SCHEMA_ID);
            assertThat(e.schemaId()).isEqualTo(987_654);
            assertThat(e.getMessage()).contains("schema id 987654").contains("on topic 'http-unknown'");
        }
    }

    @Test
    void aWriterSchemaNamedInAHeaderReadsTheBodyAloneByGuidOrIdForSpecificAndGenericReaders() {
        final Event event = (Event) SampleRecords.all().stream().filter(r -> r instanceof Event).findFirst()
                .orElseThrow();
        try (SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class);
             SpecificAvroDeserializer<Event> specific = new SpecificAvroDeserializer<>(Event.class);
             GenericAvroDeserializer generic = new GenericAvroDeserializer();
             io.spillway.schemas.registry.SchemaRegistryClient client =
                     io.spillway.schemas.registry.SchemaRegistryClients.create(server.url().toString(), Map.of())) {
            serializer.configure(config(), false);
            specific.configure(config(), false);
            generic.configure(config(), false);
            final byte[] framed = serializer.serialize("headed", event);
            final int id = WireFormat.readSchemaId(framed);
            final byte[] body = java.util.Arrays.copyOfRange(framed, WireFormat.HEADER_SIZE, framed.length);
            final java.util.UUID guid = io.spillway.schemas.registry.internals.SchemaGuids.of(client.getById(id));
            assertThat(client.getByGuid(guid)).isEqualTo(client.getById(id));
            for (final byte[] header : new byte[][] {HeaderSchemaId.guidHeader(guid), HeaderSchemaId.idHeader(id)}) {
                final org.apache.kafka.common.header.internals.RecordHeaders headers =
                        new org.apache.kafka.common.header.internals.RecordHeaders();
                headers.add(HeaderSchemaId.VALUE_HEADER, header);
                assertThat(specific.deserialize("headed", headers, body)).isEqualTo(event);
                assertThat(generic.deserialize("headed", headers, body).toString())
                        .isEqualTo(event.toString());
                // a key's header does not name a value's schema
                final org.apache.kafka.common.header.internals.RecordHeaders keyOnly =
                        new org.apache.kafka.common.header.internals.RecordHeaders();
                keyOnly.add(HeaderSchemaId.KEY_HEADER, header);
                assertThat(org.junit.jupiter.api.Assertions.assertThrows(SerdeException.class,
                        () -> specific.deserialize("headed", keyOnly, body)).reason())
                        .isEqualTo(SerdeException.Reason.WRONG_MAGIC_BYTE);
            }
            final org.apache.kafka.common.header.internals.RecordHeaders unknown =
                    new org.apache.kafka.common.header.internals.RecordHeaders();
            unknown.add(HeaderSchemaId.VALUE_HEADER, HeaderSchemaId.guidHeader(java.util.UUID.randomUUID()));
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(SerdeException.class,
                    () -> generic.deserialize("headed", unknown, body)).reason())
                    .isEqualTo(SerdeException.Reason.UNKNOWN_SCHEMA_ID);
        }
    }
}
