package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code streams-app/bin/spillway} rebuilds the jar when a source file or a pom is newer than it, and only then. The
 * real launcher and JDK selection script run in a copy of the repository's layout, with the build replaced by a stub
 * (through {@code SPILLWAY_BUILD_COMMAND}) that counts its runs and writes the jar, and a fake {@code java} that
 * reports version 25 and prints what it was asked to run. No Maven, no JVM: it takes well under a second.
 */
class LauncherRebuildIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String STUB_BUILD = "echo build >> build-runs; mkdir -p streams-app/target; "
            + "echo jar > streams-app/target/spillway.jar";

    @TempDir
    Path root;
    private Path jar;
    private Path source;
    private Path fakeJdk;

    @BeforeEach
    void copyTheLayout() throws IOException {
        Files.createDirectories(root.resolve("streams-app/bin"));
        Files.createDirectories(root.resolve(".mvn"));
        Files.copy(REPO.resolve("streams-app/bin/spillway"), root.resolve("streams-app/bin/spillway"));
        Files.copy(REPO.resolve(".mvn/select-jdk.sh"), root.resolve(".mvn/select-jdk.sh"));
        Files.copy(REPO.resolve("jvm.options"), root.resolve("jvm.options"));
        write(root.resolve("pom.xml"), "<project/>");
        write(root.resolve("streams-app/pom.xml"), "<project/>");
        source = root.resolve("streams-app/src/main/java/io/spillway/app/Main.java");
        write(source, "class Main {}");
        write(root.resolve("gpu-engine/src/main/resources/kernels.cu"), "// kernels");
        fakeJdk = root.resolve("fake-jdk");
        write(fakeJdk.resolve("bin/java"), """
                #!/bin/sh
                case "$*" in
                  *-XshowSettings*) echo "    java.specification.version = 25" >&2; exit 0 ;;
                esac
                echo "java ran: $*"
                """);
        assertThat(fakeJdk.resolve("bin/java").toFile().setExecutable(true)).isTrue();
        jar = root.resolve("streams-app/target/spillway.jar");
        // Everything written so far is from "before the first build".
        try (var files = Files.walk(root)) {
            for (final Path p : files.toList()) {
                Files.setLastModifiedTime(p, ago(600));
            }
        }
    }

    @Test
    void buildsOnceThenOnlyWhenASourceOrPomChanges() throws Exception {
        final Run first = launch(Map.of(), "demo", "--events", "10");
        assertThat(first.exit()).as(first.stderr()).isZero();
        assertThat(builds()).isEqualTo(1);
        assertThat(first.stderr()).contains("first run only");
        assertThat(first.stdout()).contains("java ran: @" + root.resolve("jvm.options") + " -jar " + jar)
                .endsWith("demo --events 10\n");

        final Run unchanged = launch(Map.of(), "status");
        assertThat(unchanged.exit()).as(unchanged.stderr()).isZero();
        assertThat(builds()).as("nothing changed: no rebuild").isEqualTo(1);
        assertThat(unchanged.stderr()).doesNotContain("building");

        // A `git pull` that changes a source: the file is newer than the jar.
        Files.setLastModifiedTime(jar, ago(300));
        Files.setLastModifiedTime(source, ago(200));
        final Run pulled = launch(Map.of(), "status");
        assertThat(pulled.exit()).as(pulled.stderr()).isZero();
        assertThat(builds()).as("a changed source rebuilds").isEqualTo(2);
        assertThat(pulled.stderr()).contains("streams-app/src/main/java/io/spillway/app/Main.java changed");
        assertThat(Files.getLastModifiedTime(jar).toInstant()).isAfter(Files.getLastModifiedTime(source).toInstant());

        assertThat(launch(Map.of(), "status").exit()).isZero();
        assertThat(builds()).as("rebuilt jar is current: no second rebuild").isEqualTo(2);

        Files.setLastModifiedTime(jar, ago(300));
        Files.setLastModifiedTime(root.resolve("pom.xml"), ago(100));
        assertThat(launch(Map.of(), "status").exit()).isZero();
        assertThat(builds()).as("a changed pom rebuilds").isEqualTo(3);

        assertThat(launch(Map.of("SPILLWAY_REBUILD", "1"), "status").exit()).isZero();
        assertThat(builds()).as("SPILLWAY_REBUILD=1 forces a rebuild").isEqualTo(4);
    }

    @Test
    void aFailedBuildStopsTheLauncherAndIsRetriedNextTime() throws Exception {
        final Run failed = launch(Map.of("SPILLWAY_BUILD_COMMAND", "echo build >> build-runs; exit 3"), "status");
        assertThat(failed.exit()).isNotZero();
        assertThat(failed.stdout()).as("java must not run with no jar").doesNotContain("java ran");

        assertThat(launch(Map.of(), "status").exit()).isZero();
        assertThat(builds()).isEqualTo(2);
    }

    @Test
    void aBuildThatLeavesNoJarIsAnError() throws Exception {
        final Run noJar = launch(Map.of("SPILLWAY_BUILD_COMMAND", "true"), "status");
        assertThat(noJar.exit()).isNotZero();
        assertThat(noJar.stderr()).contains("did not produce");
        assertThat(noJar.stdout()).doesNotContain("java ran");
    }

    private Run launch(final Map<String, String> env, final String... args) throws Exception {
        final List<String> command = new java.util.ArrayList<>(List.of("sh", root.resolve("streams-app/bin/spillway")
                .toString()));
        command.addAll(List.of(args));
        final ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
        pb.environment().put("JAVA_HOME", fakeJdk.toString());
        pb.environment().put("TMPDIR", root.toString());
        pb.environment().put("SPILLWAY_BUILD_COMMAND", STUB_BUILD);
        pb.environment().remove("SPILLWAY_REBUILD");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        final Process p = pb.start();
        p.getOutputStream().close();
        final var err = p.getErrorStream();
        final byte[] out = p.getInputStream().readAllBytes();
        final byte[] errBytes = err.readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(errBytes, StandardCharsets.UTF_8));
    }

    private long builds() throws IOException {
        final Path runs = root.resolve("build-runs");
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    private static FileTime ago(final long seconds) {
        return FileTime.from(Instant.now().minusSeconds(seconds));
    }

    private static void write(final Path file, final String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private record Run(int exit, String stdout, String stderr) {
    }
}
