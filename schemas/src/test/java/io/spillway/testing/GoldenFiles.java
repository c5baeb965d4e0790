package io.spillway.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The golden-bytes files of the hand-rolled formats (docs/formats.md), under {@code src/test/resources/golden/} of
 * each module: read by the format tests, written once per new format version by their {@code main}.
 */
public final class GoldenFiles {
    private GoldenFiles() {
    }

    /** The bytes of golden file {@code name} on the test class path; fails when it is not checked in. */
    public static byte[] read(final String name) {
        try (InputStream in = GoldenFiles.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new AssertionError("golden file " + name + " is not checked in (src/test/resources/golden)");
            }
            return in.readAllBytes();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the files of {@code files} missing in {@code dir}, leaving those there alone (they are released). */
    public static void writeMissing(final Path dir, final Map<String, byte[]> files) throws IOException {
        Files.createDirectories(dir);
        for (final Map.Entry<String, byte[]> e : files.entrySet()) {
            final Path file = dir.resolve(e.getKey());
            if (!Files.exists(file)) {
                Files.write(file, e.getValue());
                System.out.println("wrote " + file);
            }
        }
    }
}
