package io.spillway.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With the routing on, Kafka's log lines (clients and broker, INFO included) go to the file only and Spillway's own
 * lines to the terminal as well; verbose puts everything on the terminal; closing restores the configuration.
 */
class LogRoutingTest {
    private static final Logger KAFKA_CLIENT = LoggerFactory.getLogger("org.apache.kafka.clients.NetworkClient");
    private static final Logger BROKER = LoggerFactory.getLogger("kafka.server.ReplicaManager");
    private static final Logger OWN = LoggerFactory.getLogger("io.spillway.app.SpillwayApp");

    @TempDir
    Path dir;

    private final ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    private PrintStream originalErr;

    @BeforeEach
    void captureTheTerminal() {
        originalErr = System.err;
        System.setErr(new PrintStream(terminal, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreTheTerminal() {
        System.setErr(originalErr);
    }

    @Test
    void kafkaLinesGoToTheFileAndSpillwaysToBoth() throws Exception {
        final Path file = dir.resolve("logs/spillway.log");
        try (LogRouting routing = LogRouting.start(file, false)) {
            assertThat(routing.file()).isEqualTo(file.toAbsolutePath());
            KAFKA_CLIENT.info("client info line");
            BROKER.error("broker error line");
            OWN.info("own info line");
            final PrintStream stdout = System.out;
            routing.withStdoutLogged(() -> {
                System.out.println("Formatting metadata directory");
                return null;
            });
            assertThat(System.out).isSameAs(stdout);
        }
        assertThat(terminalText()).contains("own info line").doesNotContain("client info line", "broker error line",
                "Formatting");
        assertThat(Files.readString(file)).contains("org.apache.kafka.clients.NetworkClient - client info line",
                "ERROR [main] kafka.server.ReplicaManager - broker error line", "io.spillway.app.SpillwayApp - own info line",
                LogRouting.BROKER_STDOUT_LOGGER + " - Formatting metadata directory");
    }

    @Test
    void verboseShowsKafkaOnTheTerminalToo() throws Exception {
        final Path file = dir.resolve("spillway.log");
        try (LogRouting routing = LogRouting.start(file, true)) {
            KAFKA_CLIENT.info("client info line");
            OWN.info("own info line");
        }
        assertThat(terminalText()).contains("client info line", "own info line");
        assertThat(Files.readString(file)).contains("client info line", "own info line");
    }

    @Test
    void closingRestoresTheTerminalAndTheLevelsAndStopsTheFile() throws Exception {
        final Path file = dir.resolve("spillway.log");
        LogRouting.start(file, false).close();
        KAFKA_CLIENT.info("client info after");
        KAFKA_CLIENT.warn("client warning after");
        OWN.info("own line after");
        // as logback-test.xml says: Kafka at WARN on the terminal again
        assertThat(terminalText()).contains("client warning after", "own line after").doesNotContain("client info after");
        assertThat(Files.readString(file)).doesNotContain("after");
    }

    @Test
    void aFileThatCannotBeWrittenLeavesEverythingOnTheTerminal() throws Exception {
        final Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        try (LogRouting routing = LogRouting.start(notADirectory.resolve("spillway.log"), false)) {
            assertThat(routing.file()).isNull();
            KAFKA_CLIENT.warn("client warning line");
        }
        assertThat(terminalText()).contains("Cannot write the log file", "client warning line");
    }

    private String terminalText() {
        return terminal.toString(StandardCharsets.UTF_8);
    }
}
