package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryClients;
import io.spillway.schemas.registry.server.SchemaRegistryServer;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeConfig;
import io.spillway.schemas.serde.internals.HeaderSchemaId;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated values of the user's own formats (Avro of a registered schema, JSON) read through a mapping in
 * {@code auto}: each record is trained or dead-lettered with a reason, none stops the topology, none is lost.
 */
@Tag("hostile-input")
class HostileValuesTest {
    private static final int MUTANTS = 1_500;
    private static final Set<String> REASONS = Set.of("mapping-failed", "malformed-json", "malformed-avro",
            "unknown-schema-id", "wrong-magic-byte", "too-short", "incompatible-schema", "unsupported-value-format",
            "timestamp-out-of-order", "timestamp-in-future", "negative-timestamp", "event-type-out-of-range",
            "label-out-of-range", "non-finite-feature", "feature-index-out-of-range", "oversized-event", "invalid-key",
            "missing-key", "null-value", "malformed-schema-id-header");
    @TempDir
    Path dir;

    @Test
    void mutatedAvroAndJsonValuesAreTrainedOrDeadLetteredWithAReason() throws Exception {
        try (SchemaRegistryServer registry = SchemaRegistryServer.start(null, dir.resolve("schemas.jsonl"));
             SchemaRegistryClient client = SchemaRegistryClients.create(registry.url().toString(), Map.of())) {
            final Map<String, Object> serde = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, registry.url().toString(),
                    "schema.registry.max.retries", 0);
            final Properties mapping = new Properties();
            mapping.load(new StringReader("type=page\ntype.vocabulary=hash\ntime=at\nlabel=outcome\n"
                    + "features=dwell,scores,props\n"));
            final Topics topics = Topics.defaults();
            final PipelineCounters counters = new PipelineCounters();
            final Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "hostile-values-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
            try (TopologyTestDriver driver = new TopologyTestDriver(SpillwayTopology.build(topics, () -> {
                final SpecificAvroDeserializer<Event> d = new SpecificAvroDeserializer<>(Event.class);
                d.configure(serde, false);
                return d;
            }, new KeyFormats(KeyFormat.AUTO, null, () -> {
                final GenericAvroDeserializer d = new GenericAvroDeserializer();
                d.configure(serde, true);
                return d;
            }), new ValueFormats(ValueFormat.AUTO, FieldMapping.parse(mapping), () -> {
                final GenericAvroDeserializer d = new GenericAvroDeserializer();
                d.configure(serde, false);
                return d;
            }), new EventLimits(32, 64, 16, 4096), counters, 8, Duration.ofSeconds(5), InputGuards.DEFAULTS,
                    p -> -1, p -> -1), props, Instant.now())) {
                final TestInputTopic<byte[], byte[]> input = driver.createInputTopic(topics.events(),
                        new ByteArraySerializer(), new ByteArraySerializer());
                final TestOutputTopic<byte[], byte[]> dlq = driver.createOutputTopic(topics.deadLetters(),
                        new ByteArrayDeserializer(), new ByteArrayDeserializer());
                final byte[] avro = avroClick(client);
                final int avroId = java.nio.ByteBuffer.wrap(avro, 1, 4).getInt();
                final byte[] json = ("{\"page\":\"/a\",\"at\":\"2026-01-01T00:00:00Z\",\"outcome\":3,\"dwell\":1.5,"
                        + "\"scores\":[1,2],\"props\":{\"x\":1.0}}").getBytes(StandardCharsets.UTF_8);
                final Random random = new Random(17);
                final long now = System.currentTimeMillis();
                for (int i = 0; i < MUTANTS; i++) {
                    final byte[] original = i % 2 == 0 ? avro : json;
                    final byte[] key = ("k" + i % 50).getBytes(StandardCharsets.UTF_8);
                    final byte[] value = mutate(original, random);
                    if (i % 3 == 0) {
                        // a schema-id header of the newer framing, hostile or not, on a key or a value
                        input.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(key, value,
                                schemaIdHeaders(random, original == avro ? avroId : -1), Instant.ofEpochMilli(now)));
                    } else {
                        input.pipeInput(key, value, now);
                    }
                }
                final TreeMap<String, Integer> seen = new TreeMap<>();
                dlq.readRecordsToList().forEach(r -> seen.merge(
                        DeadLetterHeaders.get(r.headers(), DeadLetterHeaders.REASON), 1, Integer::sum));
                assertThat(seen.keySet()).as("reasons %s", seen).isSubsetOf(REASONS);
                assertThat(counters.consumed()).isEqualTo(MUTANTS);
                assertThat(counters.accepted() + counters.deadLettered() + counters.waitingForRegistry())
                        .as("nothing lost").isEqualTo(MUTANTS);
                assertThat(counters.deadLettered()).isPositive();
                assertThat(counters.accepted()).as("some mutants still read").isPositive();
            }
        }
    }

    /** Random {@code __value_schema_id} / {@code __key_schema_id} headers: garbage, or well formed naming an id or GUID. */
    private static org.apache.kafka.common.header.Headers schemaIdHeaders(final Random random, final int avroId) {
        final org.apache.kafka.common.header.internals.RecordHeaders headers =
                new org.apache.kafka.common.header.internals.RecordHeaders();
        final String name = random.nextInt(4) == 0 ? HeaderSchemaId.KEY_HEADER : HeaderSchemaId.VALUE_HEADER;
        final byte[] header = switch (random.nextInt(4)) {
            case 0 -> {
                final byte[] garbage = new byte[random.nextInt(24)];
                random.nextBytes(garbage);
                yield garbage;
            }
            case 1 -> HeaderSchemaId.idHeader(avroId > 0 && random.nextBoolean() ? avroId : random.nextInt());
            case 2 -> HeaderSchemaId.guidHeader(new java.util.UUID(random.nextLong(), random.nextLong()));
            default -> null;
        };
        headers.add(name, header);
        return headers;
    }

    private static byte[] mutate(final byte[] original, final Random random) {
        byte[] b = original.clone();
        switch (random.nextInt(4)) {
            case 0 -> b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            case 1 -> b = Arrays.copyOf(b, random.nextInt(b.length));
            case 2 -> {
                final int at = random.nextInt(b.length);
                final byte[] longer = new byte[b.length + 1];
                System.arraycopy(b, 0, longer, 0, at);
                longer[at] = (byte) random.nextInt(256);
                System.arraycopy(b, at, longer, at + 1, b.length - at);
                b = longer;
            }
            default -> {
                for (int n = 0; n < 3; n++) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
        }
        return b;
    }

    private static byte[] avroClick(final SchemaRegistryClient client) throws Exception {
        final Schema schema = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Click\",\"fields\":["
                + "{\"name\":\"page\",\"type\":\"string\"},"
                + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
                + "{\"name\":\"outcome\",\"type\":[\"null\",\"int\"],\"default\":null},"
                + "{\"name\":\"dwell\",\"type\":\"double\"},"
                + "{\"name\":\"props\",\"type\":{\"type\":\"map\",\"values\":\"float\"}}]}");
        final GenericRecord r = new GenericData.Record(schema);
        r.put("page", "/product");
        r.put("at", 1_767_225_600_000L);
        r.put("outcome", 2);
        r.put("dwell", 0.5);
        r.put("props", Map.of("x", 1f, "y", 2f));
        final int id = client.register("Click", schema);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(5).put((byte) 0).putInt(id).array());
        final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(r, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
