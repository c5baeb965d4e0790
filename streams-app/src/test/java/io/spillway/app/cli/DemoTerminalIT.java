package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spillway demo} in a process of its own, as a user starts it: its terminal shows the progress bar, the demo's
 * lines and Spillway's own log lines, and says where the rest went; the Kafka clients', Kafka Streams' and the
 * embedded broker's lines are in that file.
 */
class DemoTerminalIT {
    /** A console log line ({@code logback.xml}'s pattern) and its abbreviated logger name. */
    private static final Pattern LOG_LINE = Pattern.compile("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +[A-Z]+ +(\\S+) - .*");
    private static final Pattern WHERE = Pattern.compile("Kafka's log lines go to (\\S+) \\(--verbose shows them here too\\)");

    @TempDir
    Path dir;

    @Test
    void theTerminalShowsSpillwaysLinesAndTheFileHoldsKafkas() throws Exception {
        final Path terminal = dir.resolve("terminal.txt");
        final Process demo = new ProcessBuilder(command("demo", "--events=2000", "--keys=8", "--warm-up=PT0S",
                "--ops-port=0", "--data-dir=" + dir.resolve("data")))
                .redirectErrorStream(true).redirectOutput(terminal.toFile()).start();
        assertThat(demo.waitFor(240, TimeUnit.SECONDS)).as("demo finished").isTrue();
        final String text = Files.readString(terminal);
        assertThat(demo.exitValue()).as(text).isZero();
        assertThat(text).contains("Trained 2000 events", "Training");

        final List<String> foreign = new ArrayList<>();
        int own = 0;
        // the progress bar redraws with carriage returns: a log line may follow one on the same line
        for (final String line : text.split("[\r\n]+")) {
            final Matcher m = LOG_LINE.matcher(line.replaceFirst("^.*?(?=\\d\\d:\\d\\d:\\d\\d\\.\\d{3} )", ""));
            if (m.matches()) {
                if (m.group(1).startsWith("i.s.")) {
                    own++;
                } else {
                    foreign.add(line);
                }
            }
        }
        assertThat(foreign).as("log lines of other loggers on the terminal").isEmpty();
        assertThat(own).as("Spillway's own log lines on the terminal").isPositive();
        assertThat(text).doesNotContain("Bootstrap metadata", "Formatting metadata directory");

        final Matcher where = WHERE.matcher(text);
        assertThat(where.find()).as(text).isTrue();
        final Path log = Path.of(where.group(1));
        assertThat(log).isEqualTo(dir.resolve("data/spillway.log").toAbsolutePath());
        final String logged = Files.readString(log);
        assertThat(logged).contains(" org.apache.kafka.streams.KafkaStreams - ", " kafka.", " io.spillway.app.SpillwayApp - ");
    }

    /** java with the flags the app needs (the repository's jvm.options) and the main classpath, not the tests'. */
    private static List<String> command(final String... args) {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add(io.spillway.app.it.JvmOptions.argFile());
        command.add("-Xmx1g");
        command.add("-cp");
        // the production classpath: without test classes or test jars (a logback-test.xml in any of them would
        // replace the app's logback.xml)
        command.add(String.join(File.pathSeparator, Arrays.stream(System.getProperty("java.class.path")
                .split(File.pathSeparator)).filter(p -> !p.endsWith("test-classes") && !p.endsWith("-tests.jar"))
                .toList()));
        command.add(SpillwayCli.class.getName());
        command.addAll(List.of(args));
        return command;
    }
}
