package io.spillway.engine.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;

/** Writes a benchmark's figures in the format of docs/benchmark-results.md, with this machine described. */
public final class BenchResults {
    private BenchResults() {
    }

    public static void write(final Path out, final String benchmark, final String command, final Map<String, Object> figures)
            throws IOException {
        final StringBuilder json = new StringBuilder("{\n");
        json.append("  \"benchmark\": \"").append(benchmark).append("\",\n");
        json.append("  \"machine\": \"").append(machine()).append("\",\n");
        json.append("  \"date\": \"").append(LocalDate.now(ZoneOffset.UTC)).append("\",\n");
        json.append("  \"command\": \"").append(command).append("\",\n");
        json.append("  \"figures\": {\n");
        figures.forEach((k, v) -> json.append("    \"").append(k).append("\": ")
                .append(v instanceof String s ? "\"" + s.replace("\"", "'") + "\"" : v).append(",\n"));
        json.setLength(json.length() - 2);
        json.append("\n  }\n}\n");
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, json);
        System.out.print(json);
    }

    public static double round(final double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static String machine() {
        String cpu = "cpu";
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (final IOException e) {
            // not Linux: keep the generic name
        }
        final com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return "CPU: " + cpu.replace("\"", "'") + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + (os.getTotalMemorySize() >> 30) + " GiB; JVM heap " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB";
    }
}
