package io.spillway.schemas.serde;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.testing.SampleRecords;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Run in a fresh JVM without {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES} by {@link AvroTrustForkedJvmIT}.
 * First shows that plain Avro refuses to read the generated class (the control), then that the serde reads it.
 */
public final class TrustProbe {
    private TrustProbe() {
    }

    public static void main(final String[] args) throws Exception {
        System.out.println("property=" + System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES"));
        final Event event = SampleRecords.event();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(Event.class).write(event, encoder);
        encoder.flush();
        try {
            final Event plain = new SpecificDatumReader<>(Event.class)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
            System.out.println("plain=" + (event.equals(plain) ? "read" : "wrong"));
        } catch (final SecurityException e) {
            System.out.println("plain=refused " + e.getMessage());
        }
        try (SchemaRegistryClient client = SchemaRegistryClients.create("mock://trust-probe", Map.of());
             SpecificAvroSerde<Event> serde = new SpecificAvroSerde<>(Event.class, client, false)) {
            final Event back = serde.deserializer().deserialize("events", serde.serializer().serialize("events", event));
            System.out.println("serde=" + (event.equals(back) ? "ok" : "wrong"));
        }
    }
}
