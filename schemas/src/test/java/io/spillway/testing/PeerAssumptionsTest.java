package io.spillway.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

class PeerAssumptionsTest {

    @Test
    void aMissingPeerSkipsOutsideCiAndFailsUnderIt() {
        assertThatThrownBy(() -> PeerAssumptions.assumePeer(false, () -> "no prometheus on PATH", Map.of()))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("no prometheus on PATH");
        assertThatThrownBy(() -> PeerAssumptions.assumePeer(false, () -> "no prometheus on PATH", Map.of("CI", "false")))
                .isInstanceOf(TestAbortedException.class);
        assertThatThrownBy(() -> PeerAssumptions.assumePeer(false, () -> "no prometheus on PATH", Map.of("CI", "true")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("no prometheus on PATH")
                .hasMessageContaining("CI=true");
        assertThatThrownBy(() -> PeerAssumptions.assumePeer(false, () -> "x", Map.of("CI", " TRUE ")))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void aPresentPeerRunsEverywhere() {
        assertThatCode(() -> PeerAssumptions.assumePeer(true, () -> "unused", Map.of("CI", "true")))
                .doesNotThrowAnyException();
        assertThatCode(() -> PeerAssumptions.assumePeer(true, () -> "unused", Map.of())).doesNotThrowAnyException();
    }
}
