package io.spillway.app.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.serde.SpecificAvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The topology's key and value reading, used by readers outside it (serve's scorer). */
class InputReaderTest {
    private static final EventLimits LIMITS = new EventLimits(8, 4, 4, 4096);

    private static FieldMapping mapping(final String entity, final String vocabulary) {
        final Properties p = new Properties();
        p.setProperty("entity", entity);
        p.setProperty("time", "at");
        p.setProperty("type", "page");
        p.setProperty("type.vocabulary", vocabulary);
        return FieldMapping.parse(p);
    }

    private static InputReader reader(final FieldMapping mapping) {
        return new InputReader(new KeyFormats(KeyFormat.TEXT, null, () -> null),
                new ValueFormats(ValueFormat.JSON, mapping, () -> null), new SpecificAvroDeserializer<>(Event.class),
                LIMITS);
    }

    private static byte[] utf8(final String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsTheUsersJsonRecordsThroughTheMappingAsTheTopologyDoes() {
        final InputReader byKey = reader(mapping("$key", "hash"));
        final InputReader.Outcome read = byKey.read("clicks", null, utf8("user-3"), 0L,
                utf8("{\"at\": 1767225600000, \"page\": \"/home\"}"));
        assertThat(read).isInstanceOf(InputReader.Read.class);
        final InputReader.Read ok = (InputReader.Read) read;
        assertThat(ok.entityId()).isEqualTo("user-3");
        assertThat(ok.event().getTimestampMs()).isEqualTo(1_767_225_600_000L);
        assertThat(ok.event().getEventType()).isBetween(0, 7);

        final InputReader byField = reader(mapping("user", "hash"));
        final InputReader.Outcome fromValue = byField.read("clicks", null, null, 0L,
                utf8("{\"user\": \"u9\", \"at\": 5, \"page\": \"/a\"}"));
        assertThat(((InputReader.Read) fromValue).entityId()).as("the mapping's entity field").isEqualTo("u9");
    }

    @Test
    void refusesWithTheTopologysReasons() {
        final InputReader byKey = reader(mapping("$key", "hash"));
        assertThat(reason(byKey.read("clicks", null, null, 0L, utf8("{\"at\": 1, \"page\": \"/a\"}"))))
                .isEqualTo("missing-key");
        assertThat(reason(byKey.read("clicks", null, utf8("k"), 0L, null))).isEqualTo("null-value");
        assertThat(reason(byKey.read("clicks", null, utf8("k"), 0L, utf8("{\"at\": 1"))))
                .isEqualTo("malformed-json");
        assertThat(reason(byKey.read("clicks", null, utf8("k"), 0L, utf8("{\"at\": 1}"))))
                .isEqualTo("mapping-failed");
    }

    @Test
    void aDictionaryMappingNeedsThePublishedDictionaryAndTakesItsIdsWithoutAddingAny() {
        assertThatThrownBy(() -> reader(mapping("$key", "dictionary")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("published dictionary");
        final java.util.Map<String, Integer> published = java.util.Map.of("/home", 0, "/cart", 1);
        final java.util.List<String> asked = new java.util.ArrayList<>();
        final InputReader reader = new InputReader(new KeyFormats(KeyFormat.TEXT, null, () -> null),
                new ValueFormats(ValueFormat.JSON, mapping("$key", "dictionary"), () -> null),
                new SpecificAvroDeserializer<>(Event.class), LIMITS, category -> {
                    asked.add(category);
                    return published.getOrDefault(category, LIMITS.vocabularySize() - 1);
                });
        assertThat(type(reader.read("clicks", null, utf8("u"), 0L, utf8("{\"at\": 1, \"page\": \"/cart\"}"))))
                .isEqualTo(1);
        assertThat(type(reader.read("clicks", null, utf8("u"), 0L, utf8("{\"at\": 2, \"page\": \"/new\"}"))))
                .as("a category the trainer has not published: the overflow class").isEqualTo(7);
        assertThat(asked).containsExactly("/cart", "/new");
    }

    private static int type(final InputReader.Outcome outcome) {
        assertThat(outcome).isInstanceOf(InputReader.Read.class);
        return ((InputReader.Read) outcome).event().getEventType();
    }

    private static String reason(final InputReader.Outcome outcome) {
        assertThat(outcome).isInstanceOf(InputReader.Refused.class);
        return ((InputReader.Refused) outcome).rejection().reason();
    }
}
