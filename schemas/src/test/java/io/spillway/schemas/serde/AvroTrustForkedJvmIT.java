package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The surefire JVM trusts io.spillway.schemas.avro through a -D flag (root pom argLine), so this test
 * proves the serde works without it in a fresh JVM started with no such flag. Avro reads the property
 * once at class initialization, so clearing it inside this JVM would prove nothing.
 */
class AvroTrustForkedJvmIT {

    @Test
    void serdeReadsGeneratedClassesWithoutTheJvmFlag() throws IOException, InterruptedException {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process process = new ProcessBuilder(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
            TrustProbe.class.getName())).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("probe JVM finished").isTrue();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("property=null");
        // Control: without help, Avro 1.12 refuses the generated class, so the flag really is absent.
        assertThat(output).contains("plain=refused");
        assertThat(output).contains("serde=ok");
    }
}
