package io.spillway.schemas.registry.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.registry.CompatibilityLevel;
import io.spillway.schemas.registry.SchemaRegistryException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry's store file: refusals name file:line, never hold the lock, and appends never corrupt it (issue 18, item 10). */
@Tag("hostile-input")
class StoreFileTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INT = "{\"op\":\"schema\",\"id\":1,\"schema\":\"\\\"int\\\"\"}";

    @TempDir
    Path dir;

    private static Schema record(final String name) {
        return SchemaBuilder.record(name).fields().requiredInt("a").endRecord();
    }

    /** Opening must fail with file:line and the reason, and release the file (a fixed file then opens). */
    private void assertRefused(final Path store, final int line, final String reason) throws Exception {
        assertThatThrownBy(() -> SchemaStore.open(store))
            .isInstanceOf(UncheckedIOException.class)
            .hasMessageContaining(store + ":" + line)
            .hasMessageContaining(reason);
        final byte[] bad = Files.readAllBytes(store);
        Files.writeString(store, INT + "\n");
        try (SchemaStore fixed = SchemaStore.open(store)) {
            assertThat(fixed.schemaById(1).getType()).isEqualTo(Schema.Type.INT);
        }
        Files.write(store, bad);
    }

    @Test
    void anUnknownEntryNamesFileAndLineAndLeavesTheFileUnlocked() throws Exception {
        final Path store = dir.resolve("bogus.jsonl");
        Files.writeString(store, INT + "\n{\"op\":\"bogus\"}\n{\"op\":\"version\",\"subject\":\"s\",\"version\":1,\"id\":1}\n");
        assertRefused(store, 2, "unknown operation");
        Files.writeString(store, INT + "\n{\"op\":\"version\",\"subject\":\"s\"}\n");
        assertRefused(store, 2, "field \"version\" is missing");
    }

    @Test
    void garbageAfterTheJsonObjectIsRefused() throws Exception {
        final Path store = dir.resolve("garbage.jsonl");
        Files.writeString(store, INT + " trailing words\n{\"op\":\"config\",\"level\":\"NONE\"}\n");
        assertRefused(store, 1, "not one JSON object");
        Files.writeString(store, INT + "{\"op\":\"config\",\"level\":\"NONE\"}\n");
        assertRefused(store, 1, "not one JSON object");
    }

    @Test
    void aVersionPointingAtAMissingIdIsRefusedAtLoad() throws Exception {
        final Path store = dir.resolve("dangling.jsonl");
        Files.writeString(store, INT + "\n{\"op\":\"version\",\"subject\":\"s-value\",\"version\":1,\"id\":7}\n");
        assertRefused(store, 2, "points at schema id 7");
    }

    @Test
    void idsOutOfRangeOrRepeatedAreRefused() throws Exception {
        final Path store = dir.resolve("ids.jsonl");
        Files.writeString(store, "{\"op\":\"schema\",\"id\":4294967297,\"schema\":\"\\\"int\\\"\"}\n");
        assertRefused(store, 1, "not a 32-bit integer");
        Files.writeString(store, INT + "\n{\"op\":\"schema\",\"id\":1,\"schema\":\"\\\"long\\\"\"}\n");
        assertRefused(store, 2, "schema id 1 is defined a second time");
        Files.writeString(store, INT + "\n{\"op\":\"schema\",\"id\":2,\"schema\":\"\\\"int\\\"\"}\n");
        assertRefused(store, 2, "repeats the schema of id 1");
        Files.writeString(store, INT + "\n{\"op\":\"schema\",\"id\":2,\"schema\":\"{\\\"type\\\":\\\"nope\\\"}\"}\n");
        assertRefused(store, 2, "does not parse");
    }

    @Test
    void idsNearIntegerMaxValueDoNotWrapAndRunningOutIsAClearRefusal() throws Exception {
        final Path store = dir.resolve("max.jsonl");
        Files.writeString(store, "{\"op\":\"schema\",\"id\":2147483646,\"schema\":\"\\\"int\\\"\"}\n");
        try (SchemaStore schemas = SchemaStore.open(store)) {
            assertThat(schemas.register("a-value", record("A")).id()).isEqualTo(Integer.MAX_VALUE);
            assertThatThrownBy(() -> schemas.register("b-value", record("B")))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("schema ids are used up");
                });
            assertThat(schemas.subjects()).containsExactly("a-value");
            assertThat(schemas.schemaById(Integer.MAX_VALUE)).isEqualTo(record("A"));
        }
        try (SchemaStore again = SchemaStore.open(store)) {
            assertThat(again.schemaById(2147483646).getType()).isEqualTo(Schema.Type.INT);
            assertThat(again.version("a-value", "latest").id()).isEqualTo(Integer.MAX_VALUE);
        }
    }

    @Test
    void aTornLastLineIsCutOffWhileABadLastLineWithItsNewlineIsRefused() throws Exception {
        final Path store = dir.resolve("torn.jsonl");
        try (SchemaStore schemas = SchemaStore.open(store)) {
            schemas.register("t-value", record("T"));
        }
        final long good = Files.size(store);
        Files.writeString(store, "{\"seq\":3,\"op\":\"sch", StandardOpenOption.APPEND);
        try (SchemaStore schemas = SchemaStore.open(store)) {
            assertThat(schemas.versions("t-value")).containsExactly(1);
            assertThat(Files.size(store)).as("the torn bytes are cut off").isEqualTo(good);
            assertThat(schemas.register("t-value", record("T")).version()).isEqualTo(1);
            schemas.setLevel(null, CompatibilityLevel.NONE);
        }
        assertEveryLineIsWhole(store);
        Files.writeString(store, "{\"seq\":4,\"op\":\"sch\n", StandardOpenOption.APPEND);
        assertRefused(store, 4, "not one JSON object");
    }

    @Test
    void checksumsCatchAlteredLinesAndSequenceNumbersCatchMissingOrRepeatedOnes() throws Exception {
        final Path store = dir.resolve("checked.jsonl");
        try (SchemaStore schemas = SchemaStore.open(store)) {
            schemas.register("c-value", record("C"));
            schemas.register("d-value", record("C"));
            schemas.deleteSubject("c-value");
        }
        final List<String> lines = Files.readAllLines(store);
        assertThat(lines).hasSize(4).allSatisfy(line -> assertThat(line).startsWith("{\"seq\":").contains(",\"crc\":"));

        final List<String> altered = new ArrayList<>(lines);
        altered.set(1, altered.get(1).replace("\"c-value\"", "\"x-value\""));
        Files.write(store, altered);
        assertRefused(store, 2, "checksum mismatch");

        final List<String> missing = new ArrayList<>(lines);
        missing.remove(2);
        Files.write(store, missing);
        assertRefused(store, 3, "sequence number");

        final List<String> repeated = new ArrayList<>(lines);
        repeated.add(2, lines.get(1));
        Files.write(store, repeated);
        assertRefused(store, 3, "sequence number");

        final List<String> unchecked = new ArrayList<>(lines);
        unchecked.add("{\"op\":\"config\",\"level\":\"NONE\"}");
        Files.write(store, unchecked);
        assertRefused(store, 5, "no checksum");

        Files.write(store, lines);
        try (SchemaStore schemas = SchemaStore.open(store)) {
            assertThat(schemas.subjects()).containsExactly("d-value");
        }
    }

    @Test
    void linesWithoutChecksumsFromOlderVersionsLoadAndAppendsContinueTheSequence() throws Exception {
        final Path store = dir.resolve("legacy.jsonl");
        Files.writeString(store, INT + "\n{\"op\":\"version\",\"subject\":\"old-value\",\"version\":1,\"id\":1}\n");
        try (SchemaStore schemas = SchemaStore.open(store)) {
            assertThat(schemas.version("old-value", "1").id()).isEqualTo(1);
            assertThat(schemas.register("new-value", record("N")).id()).isEqualTo(2);
        }
        final List<String> lines = Files.readAllLines(store);
        assertThat(lines).hasSize(4);
        assertThat(JSON.readTree(lines.get(2)).get("seq").asInt()).isEqualTo(3);
        try (SchemaStore schemas = SchemaStore.open(store)) {
            assertThat(schemas.subjects()).containsExactly("new-value", "old-value");
        }
    }

    @Test
    void aFailedAppendIsCutBackSoTheNextAppendWritesAWholeLine() throws Exception {
        for (final FailingChannel.Mode mode : List.of(FailingChannel.Mode.SHORT_WRITE, FailingChannel.Mode.FAILED_FORCE)) {
            final Path store = dir.resolve(mode + ".jsonl");
            final AtomicReference<FailingChannel> channel = new AtomicReference<>();
            try (SchemaStore schemas = SchemaStore.open(store, SchemaStore.Limits.DEFAULT, path -> {
                channel.set(FailingChannel.open(path));
                return channel.get();
            })) {
                final int first = schemas.register("f-value", record("F")).id();
                final long before = Files.size(store);
                channel.get().failNext(mode);
                assertThatThrownBy(() -> schemas.register("g-value", record("G")))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(500);
                        assertThat(e.getMessage()).contains(store.toString());
                    });
                assertThat(Files.size(store)).as(mode + ": the partial line is gone").isEqualTo(before);
                assertThat(schemas.subjects()).as("a failed write changes nothing").containsExactly("f-value");
                assertThat(schemas.register("g-value", record("G")).id()).isEqualTo(first + 1);
            }
            assertEveryLineIsWhole(store);
            try (SchemaStore again = SchemaStore.open(store)) {
                assertThat(again.subjects()).containsExactly("f-value", "g-value");
            }
        }
    }

    @Test
    void whenEvenTheCutBackFailsTheStoreRefusesWritesAndReopensCleanly() throws Exception {
        final Path store = dir.resolve("broken.jsonl");
        final AtomicReference<FailingChannel> channel = new AtomicReference<>();
        try (SchemaStore schemas = SchemaStore.open(store, SchemaStore.Limits.DEFAULT, path -> {
            channel.set(FailingChannel.open(path));
            return channel.get();
        })) {
            schemas.register("f-value", record("F"));
            channel.get().failNext(FailingChannel.Mode.SHORT_WRITE_AND_FAILED_TRUNCATE);
            assertThatThrownBy(() -> schemas.register("g-value", record("G"))).isInstanceOf(SchemaRegistryException.class);
            assertThatThrownBy(() -> schemas.register("h-value", record("H")))
                .isInstanceOf(SchemaRegistryException.class).hasMessageContaining("refuses writes");
            assertThat(schemas.subjects()).containsExactly("f-value");
        }
        // The half line left behind is a torn last line: cut off on the next open.
        try (SchemaStore again = SchemaStore.open(store)) {
            assertThat(again.subjects()).containsExactly("f-value");
            assertThat(again.register("g-value", record("G")).version()).isEqualTo(1);
        }
        assertEveryLineIsWhole(store);
    }

    private static void assertEveryLineIsWhole(final Path store) throws Exception {
        final String text = Files.readString(store, StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n");
        for (final String line : text.split("\n")) {
            final JsonNode node = JSON.readTree(line);
            assertThat(node.isObject()).as(line).isTrue();
        }
    }
}
