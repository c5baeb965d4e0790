package io.spillway.app.cli;

import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --for}: how long a command that otherwise runs until Ctrl+C runs ({@code serve}, {@code follow}). */
@CommandLine.Command
final class StopAfter {
    @Option(names = "--for", converter = DurationConverter.class, paramLabel = "<duration>",
            description = "Stop after this long, e.g. 30s, 5m, 1h or PT1M (default: until Ctrl+C).")
    Duration duration;

    /** {@link System#nanoTime} at which to stop, from now; {@link Long#MAX_VALUE} without {@code --for}. */
    long deadlineNanos() {
        return duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    }
}
