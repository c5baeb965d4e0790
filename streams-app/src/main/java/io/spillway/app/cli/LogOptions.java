package io.spillway.app.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where {@code demo} and {@code run} write the Kafka clients' and the broker's log lines ({@link LogRouting}). */
final class LogOptions {
    @Option(names = "--verbose",
            description = "Show every log line on the terminal, the Kafka clients' and the broker's too, not only in the log file.")
    boolean verbose;

    @Option(names = "--log-file",
            description = "File for every log line, Kafka's included; rolled at " + LogRouting.ROLL_SIZE + " (default: "
                    + "spillway.log in the demo's data folder; <application-id>.log in --state-dir for run).")
    Path logFile;

    /**
     * Starts the routing to {@code --log-file}, or to {@code defaultFile} without it, and says on {@code terminal} where
     * the log lines go.
     */
    LogRouting start(final Path defaultFile, final PrintStream terminal) {
        final LogRouting routing = LogRouting.start(logFile != null ? logFile : defaultFile, verbose);
        if (routing.file() != null) {
            terminal.println(verbose ? "Every log line also goes to " + routing.file()
                    : "Kafka's log lines go to " + routing.file() + " (--verbose shows them here too)");
        }
        return routing;
    }
}
