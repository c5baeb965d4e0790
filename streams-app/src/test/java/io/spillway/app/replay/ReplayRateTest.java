package io.spillway.app.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ReplayRateTest {

    private static List<Event> events(final int n) {
        final SparseVector none = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
        return IntStream.range(0, n).mapToObj(i -> Event.newBuilder().setEntityId("k" + (i % 3)).setTimestampMs(i)
                .setEventType(i % 5).setFeatures(none).build()).toList();
    }

    @Test
    void holdsTheRequestedRate() throws Exception {
        final List<Long> sentAt = new ArrayList<>();
        final long start = System.nanoTime();
        final long n = ReplayCommand.replay(events(301).iterator(), 0, new Pacer(1000), e -> sentAt.add(System.nanoTime()),
                () -> { });
        final double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(n).isEqualTo(301);
        // event i is due at i / rate: 300 ms for the last one; never early
        assertThat(seconds).isGreaterThanOrEqualTo(0.299).isLessThan(10.0); // upper bound loose: shared CPUs oversleep
        for (int i = 0; i < sentAt.size(); i++) {
            assertThat((sentAt.get(i) - sentAt.getFirst()) / 1e6).as("event %d", i).isGreaterThanOrEqualTo(i - 1.0);
        }
    }

    @Test
    void unpacedReplayIsFastAndStopsAtTheLimit() throws Exception {
        final AtomicInteger progress = new AtomicInteger();
        final List<Event> got = new ArrayList<>();
        final long start = System.nanoTime();
        final long n = ReplayCommand.replay(events(10_000).iterator(), 2_500, new Pacer(0), got::add,
                progress::incrementAndGet);
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(2.0); // no pacing: under the 2.5 s a 1000/s pace would take
        assertThat(n).isEqualTo(2_500);
        assertThat(progress.get()).isEqualTo(2_500);
        assertThat(got).isEqualTo(events(10_000).subList(0, 2_500));
    }

    @Test
    void rejectsANonFiniteRate() {
        assertThatThrownBy(() -> new Pacer(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }
}
