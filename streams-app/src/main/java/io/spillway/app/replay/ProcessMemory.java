package io.spillway.app.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak resident memory of this process, from Linux's {@code /proc/self/status}. Thread-safe. */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** {@code VmHWM} (peak resident set size) in bytes, or -1 where {@code /proc} does not have it. */
    public static long peakRssBytes() {
        return statusBytes("VmHWM:");
    }

    /** {@code VmRSS} (resident set size now) in bytes, or -1 where {@code /proc} does not have it. */
    public static long rssBytes() {
        return statusBytes("VmRSS:");
    }

    private static long statusBytes(final String field) {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    final String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L;
                }
            }
        } catch (final IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
