package io.spillway.app.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Finds a program on the PATH (or in the given extra folders) for tests that drive real external tools. */
final class ExternalTool {
    private ExternalTool() {
    }

    static Optional<Path> find(final List<String> names, final List<String> extraFolders) {
        final String path = System.getenv().getOrDefault("PATH", "");
        for (final String name : names) {
            for (final String dir : concat(path.split(":"), extraFolders)) {
                final Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    private static List<String> concat(final String[] a, final List<String> b) {
        final java.util.ArrayList<String> all = new java.util.ArrayList<>(List.of(a));
        all.addAll(b);
        return all;
    }

    /** Runs a command to completion and returns its standard output; fails on a non-zero exit. */
    static String run(final List<String> command, final long timeoutSeconds) throws IOException, InterruptedException {
        final Path out = Files.createTempFile("spillway-tool", ".out");
        final Path err = Files.createTempFile("spillway-tool", ".err");
        try {
            final Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out after " + timeoutSeconds + " s: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IOException("exit " + p.exitValue() + " from " + command + ": " + Files.readString(err));
            }
            return Files.readString(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
