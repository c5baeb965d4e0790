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
}
