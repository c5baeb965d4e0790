package io.spillway.app.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PublishingThreadTest {

    @Test
    void runsTasksInOrderOffTheCallersThreadAndDrainWaitsForAll() throws Exception {
        final List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        final List<String> threads = Collections.synchronizedList(new ArrayList<>());
        try (PublishingThread p = new PublishingThread("pub", 2)) {
            for (int i = 0; i < 50; i++) {
                final int n = i;
                p.submit(() -> {
                    threads.add(Thread.currentThread().getName());
                    ran.add(n);
                });
            }
            p.drain();
            assertThat(ran).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 50).boxed().toList());
            assertThat(threads).containsOnly("pub");
        }
    }

    @Test
    void aFullQueueMakesTheSubmitterWait() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (PublishingThread p = new PublishingThread("pub", 1)) {
            p.submit(() -> await(release)); // running
            p.submit(() -> { });             // queued: the queue is full now
            final Thread submitter = new Thread(() -> {
                try {
                    p.submit(() -> { });
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            submitter.start();
            submitter.join(300);
            assertThat(submitter.isAlive()).as("waits while publishing is behind").isTrue();
            release.countDown();
            submitter.join(5_000);
            assertThat(submitter.isAlive()).isFalse();
        }
    }

    @Test
    void aFailedTaskStopsThePublishingAndSurfacesAtTheNextSubmitOrDrain() throws Exception {
        final List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        try (PublishingThread p = new PublishingThread("pub", 2)) {
            p.submit(() -> ran.add(1));
            p.submit(() -> {
                throw new IllegalStateException("broker said no");
            });
            try {
                p.submit(() -> ran.add(3)); // queued before the failure is seen: dropped, never run
            } catch (final IllegalStateException seenAlready) {
                assertThat(seenAlready).hasMessageContaining("broker said no");
            }
            assertThatThrownBy(p::drain).isInstanceOf(IllegalStateException.class).hasMessageContaining("broker said no");
            assertThatThrownBy(() -> p.submit(() -> ran.add(4))).hasMessageContaining("broker said no");
        }
        assertThat(ran).containsExactly(1);
    }

    private static void await(final CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
