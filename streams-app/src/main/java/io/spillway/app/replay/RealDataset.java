package io.spillway.app.replay;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Public text corpora shipped in Debian packages, read as per-document character sequences. Both hold
 * hundreds of long technical documents (tens of thousands of characters each), so every key carries a
 * sequence far longer than a training chunk, which is what continuous training with carried state is for.
 *
 * <ul>
 *   <li>{@link #LINUX_DOC}: the Linux kernel's {@code Documentation/} tree (reStructuredText), package
 *       {@code linux-doc-6.1}: 3,191 documents, of which 1,456 have 4,096 characters or more (20.3 M characters,
 *       median 9 k, longest 289 k); prose mixed with code, tables and markup.</li>
 *   <li>{@link #PERL_DOC}: Perl's manual (POD), package {@code perl-doc}: 207 documents, 187 of them 4,096 characters or more
 *       (9.0 M characters, median 23 k, longest 775 k); a different markup and register from the kernel's, to
 *       check that a result is not a property of one corpus.</li>
 * </ul>
 */
public enum RealDataset {
    /** Linux kernel documentation, one key per {@code .rst} document. */
    LINUX_DOC("linux-doc", "linux-doc-6.1", Pattern.compile(".*/Documentation/(.+\\.rst)(\\.gz)?")),
    /** Perl's manual, one key per {@code .pod} document. */
    PERL_DOC("perl-doc", "perl-doc", Pattern.compile(".*/pod/([^/]+\\.pod)(\\.gz)?"));

    private final String id;
    private final String debianPackage;
    private final Pattern files;

    RealDataset(final String id, final String debianPackage, final Pattern files) {
        this.id = id;
        this.debianPackage = debianPackage;
        this.files = files;
    }

    /** Short name used on the command line and in figure names, e.g. {@code linux-doc}. */
    public String id() {
        return id;
    }

    public String debianPackage() {
        return debianPackage;
    }

    /** The data set with this {@link #id()} (case-insensitive). */
    public static RealDataset byId(final String id) {
        for (final RealDataset d : values()) {
            if (d.id.equalsIgnoreCase(id) || d.name().equalsIgnoreCase(id)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown data set '" + id + "'; expected one of "
                + java.util.Arrays.stream(values()).map(RealDataset::id).toList());
    }

    /** A document of the corpus: its key (path inside the corpus) and the file holding it. */
    public record Document(String key, Path file) {
    }

    /**
     * The corpus' documents in a stable order (by key), installing the package first if needed.
     *
     * @throws IOException when the package is missing and cannot be installed, or lists no documents
     */
    public List<Document> documents() throws IOException {
        DebianPackages.ensureInstalled(debianPackage);
        return documentsIn(DebianPackages.files(debianPackage));
    }

    /** The documents among {@code candidates} (absolute paths as the package lists them), sorted by key. */
    List<Document> documentsIn(final List<Path> candidates) throws IOException {
        final List<Document> out = new ArrayList<>();
        for (final Path p : candidates) {
            final var m = files.matcher(p.toString());
            if (m.matches()) {
                out.add(new Document(id + ":" + m.group(1), p));
            }
        }
        if (out.isEmpty()) {
            throw new IOException("package " + debianPackage + " lists no documents matching " + files);
        }
        out.sort(Comparator.comparing(Document::key));
        return out;
    }

    /**
     * The event types of a document's characters, in order ({@link CharacterVocabulary}); gzip-compressed
     * files are decompressed. Bytes that are not valid UTF-8 become {@link CharacterVocabulary#OTHER}.
     */
    public static int[] eventTypes(final Path file) throws IOException {
        final byte[] bytes;
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().toLowerCase(Locale.ROOT).endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            bytes = in.readAllBytes();
        }
        final String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (final CharacterCodingException e) {
            throw new IOException("cannot decode " + file + ": " + e.getMessage(), e);
        }
        return text.codePoints().map(CharacterVocabulary::eventType).toArray();
    }
}
