package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * {@link SpecificAvroSerializer} plus {@link SpecificAvroDeserializer} for one generated record class.
 * When configured from configs, serializer and deserializer each create (and own) a client of the same
 * registry; with a client passed in, both share it and neither closes it.
 *
 * @param <T> the generated record class
 */
public class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {
    private final SpecificAvroSerializer<T> serializer;
    private final SpecificAvroDeserializer<T> deserializer;

    /**
     * Call {@link #configure} before use.
     *
     * @param type the generated record class
     */
    public SpecificAvroSerde(final Class<T> type) {
        this.serializer = new SpecificAvroSerializer<>(type);
        this.deserializer = new SpecificAvroDeserializer<>(type);
    }

    /**
     * Ready to use with the given client (not closed by this serde).
     *
     * @param type the generated record class
     * @param client the registry client
     * @param isKey whether it handles record keys
     */
    public SpecificAvroSerde(final Class<T> type, final SchemaRegistryClient client, final boolean isKey) {
        this.serializer = new SpecificAvroSerializer<>(type, client, isKey);
        this.deserializer = new SpecificAvroDeserializer<>(type, client, isKey);
    }

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        serializer.configure(configs, isKey);
        deserializer.configure(configs, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    @Override
    public void close() {
        serializer.close();
        deserializer.close();
    }
}
