package io.spillway.engine.mixture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LongIntCountsTest {

    /** Through many growths, against a HashMap; keys that collide in the low bits too; decrements as well. */
    @Test
    void countsAsAHashMapDoesThroughGrowth() {
        final LongIntCounts counts = new LongIntCounts();
        final Map<Long, Integer> expected = new HashMap<>();
        final SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 200_000; i++) {
            final long key = rnd.nextBoolean() ? 1 + rnd.nextInt(50_000) : (1L + rnd.nextInt(1_000)) << 40;
            final int delta = rnd.nextInt(4) == 0 ? -1 : 1;
            assertThat(counts.add(key, delta)).isEqualTo(expected.merge(key, delta, Integer::sum));
        }
        assertThat(counts.size()).isEqualTo(expected.size());
        for (final Map.Entry<Long, Integer> e : expected.entrySet()) {
            assertThat(counts.get(e.getKey())).isEqualTo(e.getValue());
            assertThat(counts.contains(e.getKey())).isTrue();
        }
        assertThat(counts.get(123_456_789L)).isZero();
        assertThat(counts.contains(123_456_789L)).isFalse();
        assertThat(counts.sortedKeys()).hasSize(expected.size()).isSorted();
        counts.clear();
        assertThat(counts.size()).isZero();
        assertThat(counts.get(1)).isZero();
    }

    /** Removing the keys added since a moment, newest first, gives back the table of that moment, probe runs intact. */
    @Test
    void removingTheNewestKeysGivesBackTheTableBeforeThem() {
        final LongIntCounts counts = new LongIntCounts();
        final SplittableRandom rnd = new SplittableRandom(2);
        final Map<Long, Integer> before = new HashMap<>();
        for (int i = 0; i < 1_500; i++) { // keys crowded into few slots, so probe runs are long
            final long key = 1 + rnd.nextInt(3_000);
            before.merge(key, 1, Integer::sum);
            counts.add(key, 1);
        }
        final long[] added = new long[600];
        for (int i = 0; i < added.length; i++) {
            long key;
            do {
                key = 1 + rnd.nextInt(100_000);
            } while (before.containsKey(key) || counts.contains(key));
            added[i] = key;
            counts.add(key, 7);
        }
        for (int i = added.length - 1; i >= 0; i--) {
            counts.remove(added[i]);
        }
        assertThat(counts.size()).isEqualTo(before.size());
        before.forEach((k, v) -> assertThat(counts.get(k)).as("key %d", k).isEqualTo(v));
        for (final long k : added) {
            assertThat(counts.contains(k)).isFalse();
        }
        counts.remove(123_456_789L); // absent: nothing happens
        assertThat(counts.size()).isEqualTo(before.size());
    }

    @Test
    void zeroIsNotAKey() {
        assertThatThrownBy(() -> new LongIntCounts().add(0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
