package io.spillway.app.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Renders a run's curves (loss, accuracy, throughput, memory) as standalone SVG files, for the
 * {@code report} command: no browser, no plotting library, files that any viewer or web page shows.
 */
public final class SvgReport {
    private static final int WIDTH = 720;
    private static final int HEIGHT = 300;
    private static final int PAD = 48;
    private static final String[] COLORS = {"#1565c0", "#c62828", "#2e7d32", "#ef6c00"};

    private SvgReport() {
    }

    /** One named curve. */
    public record Series(String name, ToDoubleFunction<TrainingFigures> value) {
    }

    /**
     * Writes {@code loss.svg}, {@code accuracy.svg}, {@code throughput.svg} and {@code memory.svg} into
     * {@code folder} (created if missing) and returns their paths.
     */
    public static List<Path> write(final List<TrainingFigures> steps, final Path folder) throws IOException {
        Files.createDirectories(folder);
        final List<Path> files = new ArrayList<>();
        files.add(chart(folder.resolve("loss.svg"), "Prequential loss (nats/event)", steps,
                List.of(new Series("network", TrainingFigures::loss),
                        new Series("published", TrainingFigures::predictionLoss))));
        files.add(chart(folder.resolve("accuracy.svg"), "Prequential accuracy", steps,
                List.of(new Series("accuracy", TrainingFigures::accuracy))));
        files.add(chart(folder.resolve("throughput.svg"), "Throughput (events/s)", steps,
                List.of(new Series("events/s", TrainingFigures::eventsPerSecond))));
        files.add(chart(folder.resolve("memory.svg"), "Memory (MiB)", steps, List.of(
                new Series("peak device", f -> f.peakDeviceBytes() / 1048576.0),
                new Series("off-chip", f -> f.offChipBytes() / 1048576.0),
                new Series("optimizer window", f -> f.optimizerWindowBytes() / 1048576.0))));
        return files;
    }

    static Path chart(final Path file, final String title, final List<TrainingFigures> steps, final List<Series> series)
            throws IOException {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (final Series s : series) {
            for (final TrainingFigures f : steps) {
                final double v = s.value().applyAsDouble(f);
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (!(hi >= lo)) {
            lo = 0;
            hi = 1;
        } else if (hi == lo) {
            lo -= 1;
            hi += 1;
        }
        final StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "font-family=\"sans-serif\" font-size=\"11\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">%s</text>%n", PAD, escape(title)));
        svg.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", PAD, HEIGHT - PAD, WIDTH - 10, HEIGHT - PAD));
        svg.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", PAD, 28, PAD, HEIGHT - PAD));
        svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"34\">%s</text>%n", label(hi)));
        svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\">%s</text>%n", HEIGHT - PAD, label(lo)));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">step (model version) %s .. %s</text>%n",
                PAD, HEIGHT - PAD + 18, steps.isEmpty() ? "-" : steps.get(0).modelVersion(),
                steps.isEmpty() ? "-" : steps.get(steps.size() - 1).modelVersion()));
        for (int k = 0; k < series.size(); k++) {
            final Series s = series.get(k);
            final StringBuilder points = new StringBuilder();
            for (int i = 0; i < steps.size(); i++) {
                final double v = s.value().applyAsDouble(steps.get(i));
                if (!Double.isFinite(v)) {
                    continue;
                }
                final double x = PAD + (WIDTH - PAD - 10) * (steps.size() == 1 ? 0.5 : i / (double) (steps.size() - 1));
                final double y = 28 + (HEIGHT - PAD - 28) * (1 - (v - lo) / (hi - lo));
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            final String color = COLORS[k % COLORS.length];
            svg.append(String.format(Locale.ROOT,
                    "<polyline class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n",
                    escape(s.name()), color, points.toString().trim()));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>%n",
                    PAD + 10 + 130 * k, HEIGHT - 8, color, escape(s.name())));
        }
        svg.append("</svg>\n");
        Files.writeString(file, svg, StandardCharsets.UTF_8);
        return file;
    }

    private static String label(final double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static String escape(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
