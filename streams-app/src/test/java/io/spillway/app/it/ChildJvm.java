package io.spillway.app.it;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A test's app in a JVM of its own, to be killed with SIGKILL: the same JVM options and class path as the test
 * (less heap settings and agents), its output in a file, except the lines starting {@code STATUS }, which go to a
 * listener as their space-separated fields (after the word STATUS).
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Thread reader;

    private ChildJvm(final Process process, final Path log, final Consumer<String[]> status) throws Exception {
        this.process = process;
        final BufferedWriter out = Files.newBufferedWriter(log);
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); out) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("STATUS ")) {
                        final String[] f = line.split(" ");
                        status.accept(java.util.Arrays.copyOfRange(f, 1, f.length));
                    } else {
                        out.write(line);
                        out.newLine();
                    }
                }
            } catch (final Exception e) {
                // the process is gone
            }
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Runs {@code main} with {@code args} in a new JVM of at most 768 MiB of heap. */
    public static ChildJvm start(final Class<?> main, final List<String> args, final Path log,
                                 final Consumer<String[]> status) throws Exception {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-Xmx") && !arg.startsWith("-agentlib") && !arg.startsWith("-javaagent")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-Xmx768m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(args);
        return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start(), log, status);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public int exitValue() {
        return process.exitValue();
    }

    /** SIGKILL; then reads what the process printed before it died. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
        reader.join(5_000);
    }

    /** SIGTERM, and waits for the process to end. */
    public void stop(final Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the app did not stop within " + timeout + " of SIGTERM");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor();
        }
        reader.join(5_000);
    }
}
