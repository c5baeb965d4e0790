package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.serde.GenericAvroDeserializer;
import io.spillway.schemas.serde.SerdeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Reading by id what a Confluent registry answers for schemas with references (a record using a named type
 * registered under another subject) and for schemas that are not Avro. The answers are the shapes Confluent's REST API
 * documents for {@code GET /schemas/ids/{id}} and {@code GET /subjects/{subject}/versions/{version}}, served over HTTP
 * (the project's own registry does not store references).
 */
class SchemaReferencesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADDRESS = "{\"type\":\"record\",\"name\":\"Address\",\"namespace\":\"shop\","
            + "\"fields\":[{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"geo\",\"type\":\"shop.Geo\"}]}";
    private static final String GEO = "{\"type\":\"record\",\"name\":\"Geo\",\"namespace\":\"shop\","
            + "\"fields\":[{\"name\":\"lat\",\"type\":\"double\"}]}";
    private static final String ORDER = "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"shop\","
            + "\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"ship\",\"type\":\"shop.Address\"},"
            + "{\"name\":\"bill\",\"type\":\"shop.Address\"}]}";

    private HttpServer fake;
    private final Map<String, String> answers = new ConcurrentHashMap<>();
    private final List<String> asked = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (fake != null) {
            fake.stop(0);
        }
    }

    private String serve() throws IOException {
        fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        fake.createContext("/", exchange -> {
            final String path = exchange.getRequestURI().getRawPath();
            asked.add(path);
            final String body = answers.getOrDefault(path, "{\"error_code\":40401,\"message\":\"Subject not found\"}");
            final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
            exchange.sendResponseHeaders(answers.containsKey(path) ? 200 : 404, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        fake.start();
        return "http://127.0.0.1:" + fake.getAddress().getPort();
    }

    private static String answer(final String schema, final String type, final String... references) {
        final ObjectNode node = JSON.createObjectNode().put("schema", schema);
        if (type != null) {
            node.put("schemaType", type);
        }
        final var refs = node.putArray("references");
        for (final String r : references) {
            final String[] parts = r.split(":");
            refs.addObject().put("name", parts[0]).put("subject", parts[1]).put("version", Integer.parseInt(parts[2]));
        }
        return node.toString();
    }

    @Test
    void aSchemaWithReferencesIsReadWithTheReferencedTypesFetchedBySubjectAndVersion() throws Exception {
        final String url = serve();
        answers.put("/schemas/ids/7", answer(ORDER, null, "shop.Address:address:2"));
        answers.put("/subjects/address/versions/2", answer(ADDRESS, "AVRO", "shop.Geo:geo:1"));
        answers.put("/subjects/geo/versions/1", answer(GEO, "AVRO"));
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of())) {
            final Schema order = client.getById(7);
            assertThat(order.getField("ship").schema().getField("geo").schema().getFullName()).isEqualTo("shop.Geo");
            final Schema address = order.getField("ship").schema();
            final GenericRecord geo = new GenericData.Record(address.getField("geo").schema());
            geo.put("lat", 52.5);
            final GenericRecord ship = new GenericData.Record(address);
            ship.put("city", "Berlin");
            ship.put("geo", geo);
            final GenericRecord record = new GenericData.Record(order);
            record.put("id", "o-1");
            record.put("ship", ship);
            record.put("bill", ship);
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[] {0, 0, 0, 0, 7});
            final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(order).write(record, encoder);
            encoder.flush();
            final GenericRecord read = (GenericRecord) new GenericAvroDeserializer(client).deserialize("orders",
                    out.toByteArray());
            assertThat(((GenericRecord) ((GenericRecord) read.get("bill")).get("geo")).get("lat")).isEqualTo(52.5);
            final int requests = asked.size();
            client.getById(7);
            assertThat(asked).as("the schema and its references are cached").hasSize(requests);
        }
    }

    @Test
    void aMissingReferenceIsAnUnknownSchemaNotAnOutage() throws Exception {
        final String url = serve();
        answers.put("/schemas/ids/8", answer(ORDER, "AVRO", "shop.Address:address:9"));
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of())) {
            assertThatThrownBy(() -> new GenericAvroDeserializer(client).deserialize("orders",
                    new byte[] {0, 0, 0, 0, 8, 2}))
                    .isInstanceOfSatisfying(SerdeException.class,
                            e -> assertThat(e.reason()).isEqualTo(SerdeException.Reason.UNKNOWN_SCHEMA_ID));
        }
    }

    @Test
    void protobufAndJsonSchemaIdsAreNamedByTypeOnceAndNotTakenForAnOutage() throws Exception {
        final String url = serve();
        answers.put("/schemas/ids/3", answer("syntax = \"proto3\"; message Click { string page = 1; }", "PROTOBUF"));
        answers.put("/schemas/ids/4", answer("{\"type\":\"object\"}", "JSON"));
        try (SchemaRegistryClient client = SchemaRegistryClients.create(url, Map.of())) {
            final GenericAvroDeserializer avro = new GenericAvroDeserializer(client);
            for (int i = 0; i < 10; i++) {
                assertThatThrownBy(() -> avro.deserialize("clicks", new byte[] {0, 0, 0, 0, 3, 0, 10, 1, 97}))
                        .isInstanceOfSatisfying(SerdeException.class, e -> {
                            assertThat(e.reason()).isEqualTo(SerdeException.Reason.UNSUPPORTED_SCHEMA_TYPE);
                            assertThat(e.getMessage()).contains("PROTOBUF");
                            assertThat(((UnsupportedSchemaTypeException) e.getCause()).schemaType()).isEqualTo("PROTOBUF");
                        });
            }
            assertThatThrownBy(() -> client.getById(4)).isInstanceOfSatisfying(UnsupportedSchemaTypeException.class,
                    e -> assertThat(e.schemaType()).isEqualTo("JSON"));
            assertThat(asked).as("one request per id").containsExactly("/schemas/ids/3", "/schemas/ids/4");
        }
    }
}
