package io.spillway.app.serving.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.Inference;
import io.spillway.engine.LearnerConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyStatesTest {
    private final Inference inference = Inference.create(LearnerConfig.builder().vocabularySize(4).featureDimension(2)
            .hiddenSize(8).backend("cpu").build());
    private final AtomicLong now = new AtomicLong();

    @AfterEach
    void close() {
        inference.close();
    }

    @Test
    void evictsTheLeastRecentlyScoredKeyBeyondTheLimit() {
        final KeyStates states = new KeyStates(2, Duration.ZERO, now::get);
        states.put("a", inference.zeroState(), 1, 1);
        states.put("b", inference.zeroState(), 2, 1);
        states.get("a"); // reading does not keep a key
        states.put("b", inference.zeroState(), 3, 1); // scoring does
        states.put("c", inference.zeroState(), 4, 1);
        assertThat(states.get("a")).isNull();
        assertThat(states.get("b").offset()).isEqualTo(3);
        assertThat(states.get("b").events()).isEqualTo(2);
        assertThat(states.get("c")).isNotNull();
        assertThat(states.size()).isEqualTo(2);
        assertThat(states.evicted()).isEqualTo(1);
        assertThat(states.bytes()).isEqualTo(2 * inference.zeroState().bytes());
    }

    @Test
    void evictsKeysIdleLongerThanTheTimeout() {
        final KeyStates states = new KeyStates(10, Duration.ofSeconds(5), now::get);
        states.put("old", inference.zeroState(), 1, 1);
        now.set(Duration.ofSeconds(3).toNanos());
        states.put("young", inference.zeroState(), 2, 1);
        now.set(Duration.ofSeconds(6).toNanos());
        assertThat(states.get("old")).isNull();
        assertThat(states.get("young")).isNotNull();
        assertThat(states.evicted()).isEqualTo(1);
        now.set(Duration.ofSeconds(9).toNanos());
        assertThat(states.expire()).isEqualTo(1);
        assertThat(states.size()).isZero();
        assertThat(states.bytes()).isZero();
        assertThat(states.evicted()).isEqualTo(2);
    }

    @Test
    void refusesBoundsThatHoldNothing() {
        assertThatThrownBy(() -> new KeyStates(0, Duration.ZERO, now::get))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeyStates(1, Duration.ofSeconds(-1), now::get))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
