package io.spillway.app.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import io.spillway.schemas.avro.Event;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RealDatasetIT {

    @Test
    void vocabularyGivesPrintableAsciiAndNewlineTheirOwnClass() {
        assertThat(CharacterVocabulary.eventType('\n')).isEqualTo(CharacterVocabulary.NEWLINE);
        assertThat(CharacterVocabulary.eventType(' ')).isEqualTo(2);
        assertThat(CharacterVocabulary.eventType('~')).isEqualTo(CharacterVocabulary.SIZE - 1);
        assertThat(CharacterVocabulary.eventType('\t')).isEqualTo(CharacterVocabulary.OTHER);
        assertThat(CharacterVocabulary.eventType('\u00e9')).isEqualTo(CharacterVocabulary.OTHER);
        for (int c = 0x20; c <= 0x7E; c++) {
            assertThat(CharacterVocabulary.character(CharacterVocabulary.eventType(c))).isEqualTo((char) c);
        }
    }

    @Test
    void readsPlainAndGzippedDocumentsAsCharacterClasses(@TempDir final Path dir) throws IOException {
        final String text = "Hi \u00e9!\n\tx";
        final Path plain = Files.writeString(dir.resolve("a.rst"), text);
        final Path gz = dir.resolve("b.rst.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        final int[] expected = {'H' - 30, 'i' - 30, 2, 0, '!' - 30, 1, 0, 'x' - 30};
        assertThat(RealDataset.eventTypes(plain)).containsExactly(expected);
        assertThat(RealDataset.eventTypes(gz)).containsExactly(expected);
    }

    @Test
    void selectsTheCorpusDocumentsAndKeysThemByPathInStableOrder() throws IOException {
        final List<Path> listed = List.of(Path.of("/usr/share/doc/linux-doc-6.1/Documentation/x/b.rst.gz"),
                Path.of("/usr/share/doc/linux-doc-6.1/Documentation/a.rst.gz"),
                Path.of("/usr/share/doc/linux-doc-6.1/Documentation/x/logo.gif"),
                Path.of("/usr/share/doc/linux-doc-6.1/changelog.Debian.gz"));
        assertThat(RealDataset.LINUX_DOC.documentsIn(listed)).extracting(RealDataset.Document::key)
                .containsExactly("linux-doc:a.rst", "linux-doc:x/b.rst");
        assertThatThrownBy(() -> RealDataset.PERL_DOC.documentsIn(listed)).hasMessageContaining("no documents");
        assertThat(RealDataset.byId("perl-doc")).isEqualTo(RealDataset.PERL_DOC);
        assertThatThrownBy(() -> RealDataset.byId("nope")).hasMessageContaining("linux-doc");
    }

    @Test
    void interleavesDocumentsKeepingEachOnesOrder(@TempDir final Path dir) throws IOException {
        final List<RealDataset.Document> docs = new ArrayList<>();
        final Map<String, String> texts = new HashMap<>();
        for (int d = 0; d < 7; d++) {
            final String text = ("doc " + d + " line\n").repeat(5 + 3 * d);
            docs.add(new RealDataset.Document("k" + d, Files.writeString(dir.resolve(d + ".txt"), text)));
            texts.put("k" + d, text);
        }
        docs.add(new RealDataset.Document("short", Files.writeString(dir.resolve("s.txt"), "tiny")));
        final InterleavedDocuments stream = new InterleavedDocuments(docs, 3, 10, 5, 1000);
        final Map<String, StringBuilder> rebuilt = new HashMap<>();
        final Set<String> firstKeys = new LinkedHashSet<>();
        long lastTs = 999;
        int n = 0;
        while (stream.hasNext()) {
            final Event e = stream.next();
            assertThat(e.getTimestampMs()).isEqualTo(lastTs + 1);
            lastTs = e.getTimestampMs();
            assertThat(e.getFeatures().getIndices()).isEmpty();
            assertThat(e.getLabel()).isNull();
            rebuilt.computeIfAbsent(e.getEntityId(), k -> new StringBuilder())
                    .append(CharacterVocabulary.character(e.getEventType()));
            if (n++ < 30) {
                firstKeys.add(e.getEntityId());
            }
        }
        assertThat(rebuilt.keySet()).isEqualTo(texts.keySet()); // the short document was skipped
        texts.forEach((k, t) -> assertThat(rebuilt.get(k).toString()).isEqualTo(t));
        assertThat(firstKeys).hasSize(3); // three documents open at once, interleaved
        assertThat(stream.documentsOpened()).isEqualTo(7);
    }

    /** The mapping on a real document of the Debian package, checked against the system's own zcat. */
    @Test
    void mapsARealKernelDocument() throws Exception {
        assumePeer(DebianPackages.installed("linux-doc-6.1"),
                "Debian package linux-doc-6.1 is not installed: skipping the real-file check "
                        + "(apt-get install linux-doc-6.1 to run it)");
        final List<RealDataset.Document> docs = RealDataset.LINUX_DOC.documentsIn(DebianPackages.files("linux-doc-6.1"));
        assertThat(docs).hasSizeGreaterThan(1000);
        final RealDataset.Document doc = docs.stream().filter(d -> d.key().equals("linux-doc:admin-guide/README.rst"))
                .findFirst().orElse(docs.getFirst());
        final Process zcat = new ProcessBuilder("zcat", "-f", doc.file().toString()).start();
        final String text = new String(zcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(zcat.waitFor()).isZero();
        final int[] types = RealDataset.eventTypes(doc.file());
        assertThat(types).hasSize((int) text.codePoints().count());
        assertThat(types.length).isGreaterThan(1000);
        final int[] cps = text.codePoints().toArray();
        for (int i = 0; i < cps.length; i++) {
            final int c = cps[i];
            final int expected = c == '\n' ? 1 : c >= 32 && c < 127 ? c - 30 : 0;
            assertThat(types[i]).as("character %d of %s", i, doc.key()).isEqualTo(expected);
        }
    }
}
