package io.spillway.app.replay;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds the files of a Debian package through {@code dpkg-query}, installing the package with
 * {@code apt-get} when it is missing and the process runs as root. Stateless; calls block while a
 * package installs.
 */
public final class DebianPackages {
    private static final long INSTALL_TIMEOUT_MINUTES = 20;

    private DebianPackages() {
    }

    /** Whether {@code dpkg-query} reports the package as installed. */
    public static boolean installed(final String pkg) {
        try {
            final Result r = run(List.of("dpkg-query", "-W", "-f=${Status}", pkg), 1);
            return r.exit == 0 && r.output.contains("install ok installed");
        } catch (final IOException e) {
            return false;
        }
    }

    /**
     * Installs {@code pkg} unless it is installed.
     *
     * @throws IOException with a message saying what to do when it is missing and cannot be installed here
     *     (not root, no apt-get, the install failed)
     */
    public static void ensureInstalled(final String pkg) throws IOException {
        if (installed(pkg)) {
            return;
        }
        if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            throw new IOException("Debian package '" + pkg + "' is not installed and this machine has no apt-get; "
                    + "install it (or its files) by hand");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IOException("Debian package '" + pkg + "' is not installed; run 'sudo apt-get install " + pkg
                    + "' (installing needs root)");
        }
        final Result r = run(List.of("apt-get", "install", "-y", "--no-install-recommends", pkg),
                INSTALL_TIMEOUT_MINUTES);
        if (r.exit != 0 || !installed(pkg)) {
            throw new IOException("'apt-get install " + pkg + "' failed (exit " + r.exit + "): " + tail(r.output));
        }
    }

    /** Regular files the installed package owns, as {@code dpkg-query -L} lists them, in that order. */
    public static List<Path> files(final String pkg) throws IOException {
        final Result r = run(List.of("dpkg-query", "-L", pkg), 1);
        if (r.exit != 0) {
            throw new IOException("dpkg-query -L " + pkg + " failed (exit " + r.exit + "): " + tail(r.output));
        }
        final List<Path> out = new ArrayList<>();
        for (final String line : r.output.split("\n")) {
            final Path p = Path.of(line.strip());
            if (!line.isBlank() && Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private record Result(int exit, String output) {
    }

    private static Result run(final List<String> command, final long timeoutMinutes) throws IOException {
        final ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        final Process p;
        try {
            p = pb.start();
        } catch (final IOException e) {
            throw new IOException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        }
        try (InputStream in = p.getInputStream()) {
            final String output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + timeoutMinutes + " min");
            }
            return new Result(p.exitValue(), output);
        } catch (final InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }

    private static String tail(final String s) {
        return s.length() <= 2000 ? s.strip() : "..." + s.substring(s.length() - 2000).strip();
    }
}
