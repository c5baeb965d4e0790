package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.testing.SampleRecords;
import io.spillway.schemas.serde.internals.WireFormat;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SerdeRoundTripMockTest {
    private static final String SCOPE = "serde-round-trip";
    private static final Map<String, Object> CONFIG = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + SCOPE);

    @AfterEach
    void dropScope() {
        SchemaRegistryClients.dropMockScope(SCOPE);
    }

    static Stream<SpecificRecord> records() {
        return SampleRecords.all().stream();
    }

    @ParameterizedTest
    @MethodSource("records")
    void roundTripsEveryRecordTypeThroughConfiguredSerdes(final SpecificRecord record) {
        assertRoundTrip(record);
    }

    /** The generated encoders the serializer uses write exactly the bytes of Avro's generic (schema-driven) writer. */
    @ParameterizedTest
    @MethodSource("records")
    @SuppressWarnings("unchecked")
    <T extends SpecificRecord> void writesTheSameBytesAsTheGenericWriter(final T record) throws java.io.IOException {
        final Class<T> type = (Class<T>) record.getClass();
        final org.apache.avro.specific.SpecificData plain = new org.apache.avro.specific.SpecificData();
        plain.setCustomCoders(false);
        final java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        final org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(expected, null);
        new org.apache.avro.specific.SpecificDatumWriter<T>(record.getSchema(), plain).write(record, encoder);
        encoder.flush();
        try (SpecificAvroSerializer<T> serializer = new SpecificAvroSerializer<>(type)) {
            serializer.configure(CONFIG, false);
            final byte[] bytes = serializer.serialize("topic-a", record);
            assertThat(java.util.Arrays.copyOfRange(bytes, WireFormat.HEADER_SIZE, bytes.length))
                    .isEqualTo(expected.toByteArray());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends SpecificRecord> void assertRoundTrip(final T record) {
        final Class<T> type = (Class<T>) record.getClass();
        try (SpecificAvroSerde<T> serde = new SpecificAvroSerde<>(type)) {
            serde.configure(CONFIG, false);
            final byte[] bytes = serde.serializer().serialize("topic-a", record);
            assertThat(bytes[0]).isEqualTo((byte) 0);
            final int id = WireFormat.readSchemaId(bytes);
            try (SchemaRegistryClient client = SchemaRegistryClients.create("mock://" + SCOPE, Map.of())) {
                assertThat(client.getById(id)).isEqualTo(record.getSchema());
                assertThat(client.latest("topic-a-value")).get().extracting(r -> r.id()).isEqualTo(id);
            }
            final T back = serde.deserializer().deserialize("topic-a", bytes);
            assertThat(back).isEqualTo(record).isNotSameAs(record);
            // The same schema keeps its id on a second topic (ids are global per schema).
            final byte[] other = serde.serializer().serialize("topic-b", record);
            assertThat(WireFormat.readSchemaId(other)).isEqualTo(id);
        }
    }

    @Test
    void nullRecordIsNullBytesAndBack() {
        try (SpecificAvroSerde<Event> serde = new SpecificAvroSerde<>(Event.class)) {
            serde.configure(CONFIG, false);
            assertThat(serde.serializer().serialize("events", null)).isNull();
            assertThat(serde.deserializer().deserialize("events", null)).isNull();
        }
    }

    @Test
    void keySerdeUsesKeySubject() {
        try (SchemaRegistryClient client = SchemaRegistryClients.create("mock://" + SCOPE, Map.of());
             SpecificAvroSerde<Event> serde = new SpecificAvroSerde<>(Event.class, client, true)) {
            serde.serializer().serialize("events", SampleRecords.event());
            assertThat(client.subjects()).containsExactly("events-key");
        }
    }

    @Test
    void missingUrlIsAClearConfigException() {
        try (SpecificAvroSerializer<Event> serializer = new SpecificAvroSerializer<>(Event.class)) {
            assertThatThrownBy(() -> serializer.configure(Map.of(), false))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("schema.registry.url");
        }
    }

    @Test
    void mockScopesAreIsolatedAndDroppable() {
        try (SchemaRegistryClient a = SchemaRegistryClients.create("mock://" + SCOPE, Map.of());
             SchemaRegistryClient b = SchemaRegistryClients.create("mock://" + SCOPE + "-other", Map.of())) {
            a.register("s", Event.getClassSchema());
            assertThat(b.subjects()).isEmpty();
            SchemaRegistryClients.dropMockScope(SCOPE);
            try (SchemaRegistryClient fresh = SchemaRegistryClients.create("mock://" + SCOPE, Map.of())) {
                assertThat(fresh.subjects()).isEmpty();
            }
        } finally {
            SchemaRegistryClients.dropMockScope(SCOPE + "-other");
        }
    }
}
