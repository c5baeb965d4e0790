package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class SvgReportTest {
    @TempDir
    Path dir;

    @Test
    void writesWellFormedSvgWhoseCurveFollowsTheData() throws Exception {
        final List<TrainingFigures> steps = new ArrayList<>();
        steps.add(OpsServerTest.figures(1, Double.NaN)); // nothing trained yet: no point, no crash
        for (int v = 2; v <= 50; v++) {
            steps.add(OpsServerTest.figures(v, 4.0 / v));
        }
        final List<Path> files = SvgReport.write(steps, dir.resolve("report"));
        assertThat(files).extracting(p -> p.getFileName().toString())
                .containsExactly("loss.svg", "accuracy.svg", "throughput.svg", "memory.svg");
        for (final Path f : files) {
            final Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(f.toFile());
            assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        }
        final String loss = Files.readString(files.get(0));
        final Matcher m = Pattern.compile("points=\"([^\"]+)\"").matcher(loss);
        assertThat(m.find()).isTrue();
        final String[] points = m.group(1).split(" ");
        assertThat(points).hasSize(49);
        // SVG y grows downwards: a falling loss draws a rising line.
        final double firstY = Double.parseDouble(points[0].split(",")[1]);
        final double lastY = Double.parseDouble(points[points.length - 1].split(",")[1]);
        assertThat(lastY).isGreaterThan(firstY);
        assertThat(Files.readString(files.get(3))).contains("data-name=\"optimizer window\"");
    }
}
