package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static io.spillway.testing.PeerAssumptions.assumePeer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.spillway.app.it.RunningApp;
import io.spillway.app.it.TestApps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live dashboard in a real headless Chromium while the app trains on a real broker: the page loads,
 * every chart has data, and the charts and the model version move as training goes on. Leaves a screenshot at
 * {@code streams-app/target/dashboard.png}.
 */
class DashboardBrowserIT {
    private static final Pattern CANVAS = Pattern.compile("<canvas id=\"(chart-[a-z]+)\" data-points=\"(\\d+)\"");
    private static final Pattern VERSION = Pattern.compile("<b id=\"version\">([^<]*)</b>");

    @TempDir
    Path profile;

    @TempDir
    Path app;

    @Test
    void chartsHaveDataAndFollowTraining() throws Exception {
        final Optional<Path> chromium = ExternalTool.find(List.of("chromium", "chromium-browser", "google-chrome"),
                List.of("/usr/bin", "/snap/bin"));
        assumePeer(chromium.isPresent(), "dashboard browser test skipped: no chromium on PATH (Debian package 'chromium')");
        try (RunningApp running = RunningApp.start(app, 2_000)) {
            final java.net.URI uri = running.app().opsUri();
            TestApps.await("a few training steps", java.time.Duration.ofSeconds(60),
                    () -> running.app().trainer().steps() >= 5);
            final String first = dumpDom(chromium.get(), uri, null);
            final Map<String, Integer> before = points(first);
            assertThat(before).containsOnlyKeys("chart-loss", "chart-accuracy", "chart-throughput", "chart-memory");
            assertThat(before.values()).allSatisfy(n -> assertThat(n).isPositive());
            final long firstVersion = Long.parseLong(version(first));
            assertThat(firstVersion).isPositive();

            final long target = running.app().learner().version() + 10;
            TestApps.await("more training", java.time.Duration.ofSeconds(60),
                    () -> running.app().learner().version() >= target);
            final Path screenshot = Path.of("target", "dashboard.png").toAbsolutePath();
            final String second = dumpDom(chromium.get(), uri, screenshot);
            final Map<String, Integer> after = points(second);
            for (final String chart : before.keySet()) {
                assertThat(after.get(chart)).as(chart + " must gain points while training").isGreaterThan(before.get(chart));
            }
            assertThat(Long.parseLong(version(second))).isGreaterThan(firstVersion);
            assertThat(Files.size(screenshot)).isGreaterThan(10_000);
        }
    }

    private String dumpDom(final Path chromium, final java.net.URI server, final Path screenshot) throws Exception {
        final List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1400,1000",
                "--virtual-time-budget=4000"));
        if (screenshot != null) {
            Files.createDirectories(screenshot.getParent());
            Files.deleteIfExists(screenshot);
            final List<String> shot = new ArrayList<>(command);
            shot.add("--screenshot=" + screenshot);
            shot.add(server.resolve("dashboard").toString());
            ExternalTool.run(shot, 60);
        }
        command.add("--dump-dom");
        command.add(server.resolve("dashboard").toString());
        return ExternalTool.run(command, 60);
    }

    private static Map<String, Integer> points(final String dom) {
        final Map<String, Integer> points = new TreeMap<>();
        final Matcher m = CANVAS.matcher(dom);
        while (m.find()) {
            points.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return points;
    }

    private static String version(final String dom) {
        final Matcher m = VERSION.matcher(dom);
        return m.find() ? m.group(1) : "";
    }
}
