package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
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
}
