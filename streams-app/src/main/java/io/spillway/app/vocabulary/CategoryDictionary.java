package io.spillway.app.vocabulary;

import io.spillway.app.mapping.FieldMapping;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Exact ids for text categories, in first-seen order: ids {@code 0 .. vocabularySize-2} go to the first
 * {@code vocabularySize-1} distinct categories; the last id, {@link #unknownId}, is the overflow class every later
 * new category maps to (it is never stored, so it has no category). An id, once given, never changes.
 *
 * <p>Ids are given tentatively while a record is read ({@link #id}) and kept only when the record is accepted
 * ({@link #commit}, which writes them to the durable store in the order given); a record dead-lettered after
 * mapping ({@link #discard}) takes no id. The ids are a function of the sequence of accepted records alone, so a
 * task that replays its input from the committed dictionary gives the same ids again.
 *
 * <p>Not thread-safe: one per stream task.
 */
public final class CategoryDictionary implements FieldMapping.Categories {
    /** Where kept ids go: the stream task's changelogged store. */
    @FunctionalInterface
    public interface Durable {
        void put(String category, int id);
    }

    private final int vocabularySize;
    private final Durable durable;
    private final Map<String, Integer> ids = new HashMap<>();
    /** Categories given an id by the record being read, in order; their ids follow {@link #ids}' size. */
    private final List<String> pending = new ArrayList<>();
    /** Categories of the record being read that fell into the overflow class. */
    private int pendingOverflows;
    /** Categories of accepted records that fell into the overflow class (an operator's sign to raise the size). */
    private long overflows;

    private CategoryDictionary(final int vocabularySize, final Durable durable) {
        if (vocabularySize < 1) {
            throw new IllegalArgumentException("vocabularySize must be >= 1: " + vocabularySize);
        }
        this.vocabularySize = vocabularySize;
        this.durable = Objects.requireNonNull(durable, "durable");
    }

    /** An empty dictionary. */
    public static CategoryDictionary empty(final int vocabularySize, final Durable durable) {
        return new CategoryDictionary(vocabularySize, durable);
    }

    /**
     * The dictionary a store holds (its entries in any order).
     *
     * @throws IllegalStateException when the ids are not exactly {@code 0 .. n-1} below the overflow id (a store
     *         written under another {@code --vocabulary}, or not by this class)
     */
    public static CategoryDictionary restore(final int vocabularySize, final Iterable<Map.Entry<String, Integer>> entries,
                                             final Durable durable) {
        final CategoryDictionary d = new CategoryDictionary(vocabularySize, durable);
        final boolean[] seen = new boolean[vocabularySize];
        for (final Map.Entry<String, Integer> e : entries) {
            final int id = e.getValue();
            if (id < 0 || id >= d.unknownId() || seen[id]) {
                throw new IllegalStateException("the stored vocabulary gives '" + e.getKey() + "' id " + id
                        + ", not a free id below " + d.unknownId() + " (--vocabulary " + vocabularySize
                        + "): was it written under another --vocabulary?");
            }
            seen[id] = true;
            d.ids.put(e.getKey(), id);
        }
        for (int id = 0; id < d.ids.size(); id++) {
            if (!seen[id]) {
                throw new IllegalStateException("the stored vocabulary has " + d.ids.size() + " categories but no id "
                        + id + ": ids are given without gaps");
            }
        }
        return d;
    }

    /** The overflow class: the id of every category seen after the dictionary is full. */
    public int unknownId() {
        return vocabularySize - 1;
    }

    /** Categories with an id of their own (kept ones, not the ones pending). */
    public int size() {
        return ids.size();
    }

    /** Whether every id below {@link #unknownId} is taken. */
    public boolean full() {
        return ids.size() + pending.size() >= unknownId();
    }

    /** The category's id: its own, the next free one (pending until {@link #commit}), or {@link #unknownId}. */
    @Override
    public int id(final String category) {
        final Integer known = ids.get(category);
        if (known != null) {
            return known;
        }
        final int p = pending.indexOf(category);
        if (p >= 0) {
            return ids.size() + p;
        }
        if (full()) {
            pendingOverflows++;
            return unknownId();
        }
        pending.add(category);
        return ids.size() + pending.size() - 1;
    }

    /**
     * Keeps the ids the record just read was given, writing them to the durable store in order.
     *
     * @return how many of the record's categories fell into the overflow class
     */
    public int commit() {
        for (final String category : pending) {
            final int id = ids.size();
            ids.put(category, id);
            durable.put(category, id);
        }
        pending.clear();
        final int overflowed = pendingOverflows;
        overflows += overflowed;
        pendingOverflows = 0;
        return overflowed;
    }

    /** Forgets the ids the record just read was given (it was not accepted). */
    public void discard() {
        pending.clear();
        pendingOverflows = 0;
    }

    /**
     * Categories of accepted records that had no id of their own and took the overflow class, since this
     * dictionary was made or restored (a count of this run, not a durable one).
     */
    public long overflows() {
        return overflows;
    }
}
