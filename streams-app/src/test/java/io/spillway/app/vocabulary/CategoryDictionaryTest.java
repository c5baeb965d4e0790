package io.spillway.app.vocabulary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dictionary vocabulary's ids: first-seen order, the cap and its overflow class, and their determinism. */
class CategoryDictionaryTest {
    private final Map<String, Integer> store = new LinkedHashMap<>();

    private CategoryDictionary empty(final int vocabularySize) {
        return CategoryDictionary.empty(vocabularySize, store::put);
    }

    /** Reads each category as one accepted record would. */
    private static List<Integer> accept(final CategoryDictionary d, final String... categories) {
        final List<Integer> ids = new ArrayList<>();
        for (final String c : categories) {
            ids.add(d.id(c));
            d.commit();
        }
        return ids;
    }

    @Test
    void idsFollowFirstSeenOrderAndAreKeptDurablyInThatOrder() {
        final CategoryDictionary d = empty(8);
        assertThat(accept(d, "/home", "/cart", "/home", "/search", "/cart")).containsExactly(0, 1, 0, 2, 1);
        assertThat(store).containsExactly(Map.entry("/home", 0), Map.entry("/cart", 1), Map.entry("/search", 2));
        assertThat(d.size()).isEqualTo(3);
    }

    @Test
    void theLastIdIsTheOverflowClassOnceTheDictionaryIsFull() {
        final CategoryDictionary d = empty(4);
        assertThat(d.unknownId()).isEqualTo(3);
        assertThat(accept(d, "a", "b", "c", "d", "e", "a", "d")).containsExactly(0, 1, 2, 3, 3, 0, 3);
        assertThat(d.full()).isTrue();
        assertThat(store).as("the overflow class is never stored").containsOnlyKeys("a", "b", "c");
        assertThat(d.overflows()).as("d, e and d again had no id of their own").isEqualTo(3);
        final CategoryDictionary one = empty(1);
        assertThat(accept(one, "x", "y")).as("a vocabulary of one: everything overflows").containsExactly(0, 0);
        assertThat(store).doesNotContainKeys("x", "y");
    }

    @Test
    void aRecordThatIsNotAcceptedTakesNoId() {
        final CategoryDictionary d = empty(8);
        assertThat(d.id("/home")).isZero();
        assertThat(d.id("/cart")).isEqualTo(1);
        assertThat(d.id("/home")).as("one record's type and label: the pending id").isZero();
        d.discard();
        assertThat(store).isEmpty();
        assertThat(accept(d, "/cart", "/home")).containsExactly(0, 1);
    }

    @Test
    void anOverflowCountsOnlyWhenItsRecordIsAccepted() {
        final CategoryDictionary d = empty(2);
        assertThat(accept(d, "a")).containsExactly(0);
        assertThat(d.id("b")).isEqualTo(1);
        assertThat(d.id("c")).isEqualTo(1);
        d.discard();
        assertThat(d.overflows()).as("a dead-lettered record's overflows are forgotten").isZero();
        assertThat(d.id("b")).isEqualTo(1);
        assertThat(d.id("a")).isZero();
        assertThat(d.commit()).as("the record's overflowed categories").isEqualTo(1);
        assertThat(d.overflows()).isEqualTo(1);
    }

    @Test
    void aDictionaryRestoredFromItsStoreContinuesExactlyAsTheUninterruptedOne() {
        final String[] input = {"p3", "p1", "p3", "p4", "p9", "p1", "p2", "p5", "p6", "p7", "p8", "p2"};
        final CategoryDictionary uninterrupted = CategoryDictionary.empty(6, (c, id) -> { });
        final List<Integer> expected = accept(uninterrupted, input);
        final CategoryDictionary first = empty(6);
        final List<Integer> ids = new ArrayList<>(accept(first, java.util.Arrays.copyOf(input, 5)));
        // restored from the entries in another order (a store iterates by key)
        final List<Map.Entry<String, Integer>> entries = new ArrayList<>(store.entrySet());
        java.util.Collections.reverse(entries);
        final CategoryDictionary restored = CategoryDictionary.restore(6, entries, store::put);
        ids.addAll(accept(restored, java.util.Arrays.copyOfRange(input, 5, input.length)));
        assertThat(ids).isEqualTo(expected).containsExactly(0, 1, 0, 2, 3, 1, 4, 5, 5, 5, 5, 4);
    }

    @Test
    void aStoreWhoseIdsDoNotFitIsRefused() {
        assertThatThrownBy(() -> CategoryDictionary.restore(4, List.of(Map.entry("a", 3)), (c, id) -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("another --vocabulary");
        assertThatThrownBy(() -> CategoryDictionary.restore(8, List.of(Map.entry("a", 0), Map.entry("b", 2)),
                (c, id) -> { })).hasMessageContaining("no id 1");
        assertThatThrownBy(() -> CategoryDictionary.restore(8, List.of(Map.entry("a", 0), Map.entry("b", 0)),
                (c, id) -> { })).hasMessageContaining("'b' id 0");
    }
}
