package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.TopicNameStrategy;
import io.spillway.schemas.serde.internals.SerdeSettings;
import io.spillway.schemas.serde.internals.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes text as a Confluent-framed Avro {@code "string"}, its schema registered under the topic's key (or value)
 * subject: the form of key that clients decoding every key as Avro (Confluent's {@code AvroConsumer}, ksqlDB with
 * {@code KEY_FORMAT='AVRO'}) can read. Thread-safe once configured.
 */
public final class AvroStringSerializer implements Serializer<String> {
    private static final Schema STRING = Schema.create(Schema.Type.STRING);
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();
    private SchemaRegistryClient client;
    private boolean isKey;

    @Override
    public void configure(final Map<String, ?> configs, final boolean isKey) {
        this.client = SerdeSettings.client(configs);
        this.isKey = isKey;
    }

    @Override
    public byte[] serialize(final String topic, final String data) {
        if (data == null) {
            return null;
        }
        if (client == null) {
            throw new IllegalStateException("AvroStringSerializer used before configure()");
        }
        final int id = ids.computeIfAbsent(topic, t -> {
            final String subject = TopicNameStrategy.subject(t, isKey);
            try {
                return client.register(subject, STRING);
            } catch (final SchemaRegistryException e) {
                throw new SerdeException(SerdeException.Reason.REGISTRY_UNAVAILABLE, -1,
                        "schema registry unavailable while registering subject '" + subject + "': " + e.getMessage(), e);
            }
        });
        final ByteArrayOutputStream out = new ByteArrayOutputStream(WireFormat.HEADER_SIZE + data.length() + 5);
        out.write(new byte[WireFormat.HEADER_SIZE], 0, WireFormat.HEADER_SIZE);
        final BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            encoder.writeString(data);
            encoder.flush();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        final byte[] bytes = out.toByteArray();
        WireFormat.writeHeader(bytes, id);
        return bytes;
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }
}
