package io.spillway.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.spillway.engine.memory.MemoryAccountant;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class BackendsTest {

    @Test
    void providersAreFoundAtRunTimeMostPreferredFirst() {
        // cpu-booking is a provider on the test class path only: a backend added without touching Backends
        assertThat(Backends.names()).containsExactly("cuda", "cpu", DeviceBookingBackendProvider.NAME);
        assertThat(Backends.probe("cpu").available()).isTrue();
        assertThatThrownBy(() -> Backends.probe("tpu")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void autoFallsBackToCpuAndSaysWhy() {
        final Logger log = (Logger) LoggerFactory.getLogger(Backends.class);
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        final Backends.Probe cuda = Backends.probe("cuda");
        try (Backend b = Backends.select("AUTO"); Backend any = Backends.select("auto", new MemoryAccountant())) {
            assertThat(b.name()).isEqualTo(cuda.available() ? "cuda" : "cpu");
            assertThat(any.name()).isEqualTo(b.name());
            assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage)
                    .anySatisfy(m -> assertThat(m).contains(cuda.available() ? "backend auto: using cuda: "
                            : "backend auto: using cpu because cuda is unavailable (" + cuda.detail() + ")"));
        } finally {
            log.detachAppender(appender);
        }
    }

    @Test
    void explicitCpuWorksAndExplicitCudaFailsClearly() {
        try (Backend b = Backends.select("cpu"); Backend c = Backends.select("CPU", new MemoryAccountant())) {
            assertThat(b.deviceDescription()).startsWith("cpu(");
            assertThat(c.name()).isEqualTo("cpu");
        }
        if (!Backends.probe("cuda").available()) {
            assertThatThrownBy(() -> Backends.select("cuda")).isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("'cuda' requested but unavailable").hasMessageContaining("use --backend cpu");
            assertThatThrownBy(() -> Backends.select("cuda", new MemoryAccountant()))
                    .isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("'cuda' requested but unavailable");
        }
        assertThatThrownBy(() -> Backends.select("tpu", new MemoryAccountant()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected cuda, cpu, cpu-booking or auto");
    }

    @Test
    void cpuKernelsComputeWhatTheyDocument() {
        try (ArrayBackend b = Backends.select("cpu")) {
            // m = [[1,2,3],[4,5,6]] (2x3); x = two rows
            final DenseMatrix m = b.upload(new float[] {9, 1, 2, 3, 4, 5, 6}, 1, 2, 3);
            final float[] y = new float[4];
            b.multiplyTransposed(m, new float[] {1, 0, -1, 2, 1, 0}, 2, y, false);
            assertThat(y).containsExactly(-2, -2, 4, 13);
            final float[] z = new float[6];
            b.multiply(m, new float[] {1, 1, 0, 2}, 2, z, false);
            assertThat(z).containsExactly(5, 7, 9, 8, 10, 12);
            final float[] g = new float[6];
            b.accumulateOuter(g, 0, 2, 3, new float[] {1, 0, 0, 2}, new float[] {1, 2, 3, 4, 5, 6}, 2);
            assertThat(g).containsExactly(1, 2, 3, 8, 10, 12);
            final float[] out = new float[3];
            b.gatherRows(new float[] {1, 2, 3, 4, 5, 6}, 0, 3, new int[] {1, 0}, new float[] {2, -1}, 0, 2, out, 0);
            assertThat(out).containsExactly(7, 8, 9);
            final float[] acc = new float[6];
            b.scatterAddRows(acc, 0, 3, new int[] {1}, null, 0, 1, new float[] {1, 2, 3}, 0);
            assertThat(acc).containsExactly(0, 0, 0, 1, 2, 3);
            m.close();
            assertThatThrownBy(() -> b.multiply(m, new float[2], 1, new float[3], false))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
