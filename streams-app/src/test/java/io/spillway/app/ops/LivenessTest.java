package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Tag("hostile-input")
class LivenessTest {
    private final AtomicReference<KafkaStreams.State> state = new AtomicReference<>(KafkaStreams.State.CREATED);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    @ParameterizedTest
    @EnumSource(KafkaStreams.State.class)
    void theStreamsClientIsLiveWhileStartingRebalancingOrRunningAndOnTheWayOutOfARequestedStop(
            final KafkaStreams.State s) throws Exception {
        final Thread trainer = running();
        try {
            final Liveness liveness = new Liveness(state::get, trainer, failure::get, stopping::get);
            state.set(s);
            final boolean liveUnasked = s == KafkaStreams.State.CREATED || s == KafkaStreams.State.REBALANCING
                    || s == KafkaStreams.State.RUNNING;
            final Health unasked = liveness.check();
            assertThat(unasked.up()).isEqualTo(liveUnasked);
            assertThat(unasked.components()).containsEntry("streams", s.name()).containsEntry("trainer", "alive");
            if (!liveUnasked) {
                assertThat(unasked.problems()).singleElement().asString().contains(s.name()).contains("no stop was requested");
            }
            stopping.set(true);
            final boolean failed = s == KafkaStreams.State.PENDING_ERROR || s == KafkaStreams.State.ERROR;
            assertThat(liveness.check().up()).isEqualTo(!failed);
            assertThat(liveness.streamsRunning()).isEqualTo(s.isRunningOrRebalancing() ? 1 : 0);
        } finally {
            trainer.interrupt();
            trainer.join();
        }
    }

    @Test
    void aTrainerThreadThatEndedWithoutAStopIsDeadAndSaysWhy() throws Exception {
        state.set(KafkaStreams.State.RUNNING);
        final Thread trainer = new Thread(() -> failure.set(new IllegalStateException("chunk log unreadable")));
        final Liveness liveness = new Liveness(state::get, trainer, failure::get, stopping::get);
        assertThat(liveness.check().up()).as("not started yet: starting").isTrue();
        assertThat(liveness.check().components()).containsEntry("trainer", "starting");
        trainer.start();
        trainer.join();
        final Health dead = liveness.check();
        assertThat(dead.up()).isFalse();
        assertThat(dead.components()).containsEntry("trainer", "ended");
        assertThat(dead.problems()).singleElement().asString().contains("trainer thread has ended")
                .contains("chunk log unreadable");
        assertThat(liveness.trainerAlive()).isZero();
        stopping.set(true);
        assertThat(liveness.check().up()).as("ended on request").isTrue();
    }

    /** A real client on a port nothing listens on: it starts, rebalances, and a close nobody asked for kills it. */
    @Test
    void aRealStreamsClientClosedWithoutARequestIsDead(@TempDir final Path dir) throws Exception {
        final Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "liveness-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        final StreamsBuilder builder = new StreamsBuilder();
        builder.stream("in", org.apache.kafka.streams.kstream.Consumed.with(Serdes.String(), Serdes.String()))
                .to("out");
        final Thread trainer = running();
        try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
            final Liveness liveness = new Liveness(streams::state, trainer, failure::get, stopping::get);
            assertThat(liveness.check().up()).isTrue();
            streams.start();
            assertThat(liveness.check().up()).as("rebalancing: " + streams.state()).isTrue();
            streams.close(Duration.ofSeconds(20));
            assertThat(streams.state()).isEqualTo(KafkaStreams.State.NOT_RUNNING);
            assertThat(liveness.check().up()).isFalse();
            assertThat(liveness.streamsRunning()).isZero();
        } finally {
            trainer.interrupt();
            trainer.join();
        }
    }

    /** A thread that runs until interrupted, standing for a live trainer. */
    private static Thread running() throws InterruptedException {
        final CountDownLatch started = new CountDownLatch(1);
        final Thread t = new Thread(() -> {
            started.countDown();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (final InterruptedException e) {
                // done
            }
        });
        t.setDaemon(true);
        t.start();
        started.await();
        return t;
    }
}
