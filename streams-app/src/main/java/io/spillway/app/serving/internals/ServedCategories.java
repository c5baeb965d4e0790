package io.spillway.app.serving.internals;

import io.spillway.app.mapping.FieldMapping;
import io.spillway.app.serving.NextEvent;
import io.spillway.app.vocabulary.VocabularyReader;

/**
 * The trainer's published dictionary as serve uses it, both ways: the ids of the categories it scores or is posted
 * (read-only: a category the trainer has not published takes the overflow class, as it would once the dictionary
 * is full, and is counted), and the categories of the ids it predicts. {@link #NONE} without a dictionary.
 *
 * <p>Thread-safe: the scorer and the HTTP threads share one.
 */
public final class ServedCategories {
    /** No dictionary vocabulary: ids only. */
    public static final ServedCategories NONE = new ServedCategories(null, () -> { });

    /**
     * The least time between two reads on for a category or an id the dictionary does not hold: serve asks per event,
     * and a stream of new categories, or an untrained model's predictions of ids no category has taken yet, must
     * not cost a round trip to the broker each.
     */
    private static final long READ_ON_INTERVAL_NANOS = 1_000_000_000L;

    private final VocabularyReader reader;
    private final Runnable unknown;
    private final java.util.concurrent.atomic.AtomicLong lastReadOnNanos =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - READ_ON_INTERVAL_NANOS);

    /** @param unknown called for each category the published dictionary does not hold */
    public ServedCategories(final VocabularyReader reader, final Runnable unknown) {
        this.reader = reader;
        this.unknown = unknown;
    }

    /** Whether there is a dictionary. */
    public boolean present() {
        return reader != null;
    }

    /** The published dictionary's topic; null without one. */
    public String topic() {
        return reader == null ? null : reader.topic();
    }

    /** Categories read from it so far (0 without one). */
    public int size() {
        return reader == null ? 0 : reader.size();
    }

    /** The ids of text categories for a mapping's reader; null without a dictionary. */
    public FieldMapping.Categories ids() {
        return reader == null ? null : this::id;
    }

    /**
     * @return the category's published id, or the overflow class for one the dictionary does not hold
     * @throws IllegalStateException without a dictionary
     */
    public int id(final String category) {
        if (reader == null) {
            throw new IllegalStateException("no dictionary vocabulary: categories have no ids here");
        }
        int id = reader.knownId(category);
        if (id < 0 && readOnDue()) {
            reader.readOn();
            id = reader.knownId(category);
        }
        if (id >= 0) {
            return id;
        }
        unknown.run();
        return reader.unknownId();
    }

    /**
     * The categories a prediction carries: of its predicted type first, then of each top type; null where there is
     * none (no dictionary, the overflow class, an id not published).
     */
    public String[] names(final NextEvent p) {
        if (reader == null) {
            return new String[p.top().size() + 1];
        }
        final int[] ids = new int[p.top().size() + 1];
        ids[0] = p.predictedType();
        for (int c = 0; c < p.top().size(); c++) {
            ids[c + 1] = p.top().get(c).eventType();
        }
        String[] known = reader.knownCategories(ids);
        for (int i = 0; i < ids.length; i++) {
            if (known[i] == null && ids[i] >= 0 && ids[i] < reader.unknownId()) {
                if (readOnDue()) {
                    reader.readOn();
                    known = reader.knownCategories(ids);
                }
                break;
            }
        }
        return known;
    }

    /** Whether reading on is due: at most once per {@link #READ_ON_INTERVAL_NANOS}, for all the threads together. */
    private boolean readOnDue() {
        final long now = System.nanoTime();
        final long last = lastReadOnNanos.get();
        return now - last >= READ_ON_INTERVAL_NANOS && lastReadOnNanos.compareAndSet(last, now);
    }
}
