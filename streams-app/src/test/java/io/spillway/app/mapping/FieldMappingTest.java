package io.spillway.app.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.avro.Event;
import java.io.StringReader;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

/** Path resolution, time parsing and the mapping file (issue 17, item 2). */
class FieldMappingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema NESTED = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
            + "{\"name\":\"page\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":["
            + "{\"name\":\"id\",\"type\":[\"null\",\"string\"],\"default\":null},"
            + "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}}]}},"
            + "{\"name\":\"props\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"
            + "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"VIEW\",\"BUY\"]}},"
            + "{\"name\":\"a.b\",\"type\":\"int\"}]}".replace("a.b", "a_b"));

    private static GenericRecord nested(final String id) {
        final GenericRecord page = new GenericData.Record(NESTED.getField("page").schema());
        page.put("id", id == null ? null : new Utf8(id));
        page.put("at", 1_700_000_000_123_456L);
        final GenericRecord r = new GenericData.Record(NESTED);
        r.put("page", page);
        r.put("props", Map.of(new Utf8("price"), 9.5, new Utf8("qty"), 2.0));
        r.put("kind", new GenericData.EnumSymbol(NESTED.getField("kind").schema(), "BUY"));
        r.put("a_b", 7);
        return r;
    }

    private static FieldMapping mapping(final String text) throws Exception {
        final Properties p = new Properties();
        p.load(new StringReader(text));
        return FieldMapping.parse(p);
    }

    @Test
    void nestedPathsThroughAvroRecordsUnionsAndMaps() throws Exception {
        final FieldPath.Found id = FieldPath.parse("page.id").resolve(nested("p7"));
        assertThat(id.value()).hasToString("p7");
        assertThat(id.schema().getType()).as("the union's branch").isEqualTo(Schema.Type.STRING);
        assertThat(FieldPath.parse("props.price").resolve(nested("x")).value()).isEqualTo(9.5);
        assertThat(FieldPath.parse("page.id").resolve(nested(null)).value()).isNull();
        assertThatThrownBy(() -> FieldPath.parse("page.title").resolve(nested("x")))
                .isInstanceOf(MappingException.class).hasMessage("field page.title missing");
        assertThatThrownBy(() -> FieldPath.parse("page.id.x").resolve(nested("x")))
                .hasMessage("field page.id.x missing: page.id is not a record or object");
    }

    @Test
    void nestedPathsThroughJsonObjectsAndBacktickedNames() throws Exception {
        final JsonNode json = JSON.readTree("{\"user\":{\"a.b\":{\"c\":5}},\"n\":null}");
        assertThat(((JsonNode) FieldPath.parse("user.`a.b`.c").resolve(json).value()).intValue()).isEqualTo(5);
        assertThat(FieldPath.parse("n").resolve(json).value()).isNull();
        assertThatThrownBy(() -> FieldPath.parse("n.x").resolve(json)).hasMessage("field n.x missing: n is null");
        assertThatThrownBy(() -> FieldPath.parse("a..b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FieldPath.parse("`a.b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timesFromLogicalTypesNumbersInAUnitAndIsoText() throws Exception {
        assertThat(EventTimes.toMillis("page.at", FieldPath.parse("page.at").resolve(nested("x")), TimeUnit.MILLISECONDS))
                .as("timestamp-micros").isEqualTo(1_700_000_000_123L);
        final Schema millis = new Schema.Parser().parse("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}");
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(5L, millis), TimeUnit.SECONDS)).isEqualTo(5L);
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(5L, Schema.create(Schema.Type.LONG)), TimeUnit.SECONDS))
                .isEqualTo(5_000L);
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(new Utf8("2026-12-02T17:57:50.125Z"), null),
                TimeUnit.MILLISECONDS)).isEqualTo(1_796_234_270_125L);
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(JSON.readTree("\"2026-12-02T18:57:50.125+01:00\""), null),
                TimeUnit.MILLISECONDS)).isEqualTo(1_796_234_270_125L);
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(JSON.readTree("\"2026-12-02T17:57:50.125\""), null),
                TimeUnit.MILLISECONDS)).as("no offset: UTC").isEqualTo(1_796_234_270_125L);
        assertThat(EventTimes.toMillis("t", new FieldPath.Found(JSON.readTree("1796234270125"), null),
                TimeUnit.MILLISECONDS)).isEqualTo(1_796_234_270_125L);
        assertThatThrownBy(() -> EventTimes.toMillis("t", new FieldPath.Found(JSON.readTree("1.5"), null),
                TimeUnit.MILLISECONDS)).hasMessageStartingWith("field t is not a time: a number");
        assertThatThrownBy(() -> EventTimes.toMillis("t", new FieldPath.Found(new Utf8("12/02/2026"), null),
                TimeUnit.MILLISECONDS)).hasMessage("field t is not an ISO-8601 time: '12/02/2026'");
        final Schema date = new Schema.Parser().parse("{\"type\":\"int\",\"logicalType\":\"date\"}");
        assertThatThrownBy(() -> EventTimes.toMillis("t", new FieldPath.Found(3, date), TimeUnit.MILLISECONDS))
                .hasMessage("field t has logical type date, not a timestamp");
        assertThatThrownBy(() -> EventTimes.toMillis("t", new FieldPath.Found(Long.MAX_VALUE / 10,
                Schema.create(Schema.Type.LONG)), TimeUnit.SECONDS)).hasMessageStartingWith("field t is out of range");
    }

    @Test
    void aMappingReadsEntityTimeTypeLabelAndFeatures() throws Exception {
        final FieldMapping m = mapping("entity=page.id\ntime=page.at\ntype=kind\ntype.vocabulary=hash\nlabel=a_b\n"
                + "features=a_b,props\n");
        assertThat(m.entityFromKey()).isFalse();
        final Event e = m.map(nested("p1"), null, 0, 16, 32);
        assertThat(e.getEntityId()).isEqualTo("p1");
        assertThat(e.getTimestampMs()).isEqualTo(1_700_000_000_123L);
        assertThat(e.getEventType()).isEqualTo(FieldMapping.hash("BUY", 16)).isBetween(0, 15);
        assertThat(e.getLabel()).isEqualTo(7);
        assertThat(e.getFeatures().getIndices()).first().isEqualTo(0);
        assertThat(e.getFeatures().getValues()).first().isEqualTo(7f);
        assertThat(e.getFeatures().getIndices()).as("the map's two entries, hashed past index 0")
                .allSatisfy(i -> assertThat(i).isBetween(0, 31)).isSorted();
        assertThat(e.getFeatures().getValues().stream().mapToDouble(Float::doubleValue).sum()).isEqualTo(18.5);
        assertThatThrownBy(() -> m.map(nested(null), null, 0, 16, 32)).hasMessage("field page.id is null: no entity id");
    }

    @Test
    void theMappingFileIsCheckedAtStartUp() throws Exception {
        assertThatThrownBy(() -> mapping("time=at\n")).hasMessageContaining("'type'");
        assertThatThrownBy(() -> mapping("type=t\ntyp.vocabulary=hash\n")).hasMessageContaining("unknown mapping keys [typ.vocabulary]");
        assertThat(mapping("type=t\ntype.vocabulary=dictionary\n").usesDictionary()).isTrue();
        assertThat(mapping("type=t\ntype.vocabulary=hash\n").usesDictionary()).isFalse();
        assertThatThrownBy(() -> mapping("type=t\ntype.vocabulary=exact\n")).hasMessageContaining("hash or dictionary");
        assertThatThrownBy(() -> mapping("type=t\ntime.unit=weeks\n")).hasMessageContaining("time.unit");
    }

    @Test
    void aDictionaryVocabularyAsksForIdsOnlyOnceTheRestOfTheRecordHasMapped() throws Exception {
        final FieldMapping m = mapping("type=kind\ntype.vocabulary=dictionary\nlabel=page.id\n"
                + "label.vocabulary=dictionary\ntime=page.at\nfeatures=props\n");
        final List<String> asked = new java.util.ArrayList<>();
        final FieldMapping.Categories ids = c -> {
            asked.add(c);
            return asked.size() + 10;
        };
        final Event e = m.map(nested("p7"), "k", 0, 16, 32, ids);
        assertThat(asked).as("the type first, then the label").containsExactly("BUY", "p7");
        assertThat(e.getEventType()).isEqualTo(11);
        assertThat(e.getLabel()).isEqualTo(12);
        asked.clear();
        final FieldMapping textFeature = mapping("type=kind\ntype.vocabulary=dictionary\ntime=page.at\n"
                + "features=page.id\n");
        assertThatThrownBy(() -> textFeature.map(nested("p7"), "k", 0, 16, 32, ids))
                .isInstanceOf(MappingException.class);
        assertThat(asked).as("a record whose features fail to map").isEmpty();
        assertThatThrownBy(() -> m.map(nested("p7"), "k", 0, 16, 32)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void hashedCategoriesAreStableAndInRange() {
        assertThat(FieldMapping.hash("/home", 64)).isEqualTo(FieldMapping.hash("/home", 64));
        for (final String page : List.of("/home", "/cart", "/checkout", "", "ü")) {
            assertThat(FieldMapping.hash(page, 10)).isBetween(0, 9);
        }
    }
}
