package io.spillway.app.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's jvm.options (the flags every Spillway JVM needs), as the argument that gives them to a child JVM. */
public final class JvmOptions {
    private JvmOptions() {
    }

    /** {@code @<path of jvm.options>}: the repository root is the working directory or a folder above it. */
    public static String argFile() {
        final Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            final Path file = dir.resolve("jvm.options");
            if (Files.isRegularFile(file) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return "@" + file;
            }
        }
        throw new IllegalStateException("no jvm.options in " + start + " or a folder above it");
    }
}
