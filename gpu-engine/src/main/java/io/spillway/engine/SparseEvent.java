package io.spillway.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * One event as the learner sees it: a categorical type plus sparse real-valued features.
 *
 * <p>Arrays are owned by the event once constructed and must not be mutated by the caller.
 *
 * @param eventType categorical type in {@code [0, vocabularySize)}
 * @param featureIndices strictly increasing indices in {@code [0, featureDimension)}; may be empty, never null
 * @param featureValues one finite value per index; never null
 * @param label explicit target class for this step, or {@link #NO_LABEL} to use the next event's type
 */
public record SparseEvent(int eventType, int[] featureIndices, float[] featureValues, int label) {

    /** Marker for "no explicit label": the next event's type is the target. */
    public static final int NO_LABEL = -1;

    public SparseEvent {
        Objects.requireNonNull(featureIndices, "featureIndices");
        Objects.requireNonNull(featureValues, "featureValues");
        if (featureIndices.length != featureValues.length) {
            throw new IllegalArgumentException("featureIndices and featureValues differ in length: "
                    + featureIndices.length + " vs " + featureValues.length);
        }
    }

    /** An event with no features and no explicit label. */
    public static SparseEvent ofType(final int eventType) {
        return new SparseEvent(eventType, new int[0], new float[0], NO_LABEL);
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof SparseEvent e && eventType == e.eventType && label == e.label
                && Arrays.equals(featureIndices, e.featureIndices) && Arrays.equals(featureValues, e.featureValues);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventType, label, Arrays.hashCode(featureIndices), Arrays.hashCode(featureValues));
    }

    @Override
    public String toString() {
        return "SparseEvent[type=" + eventType + ", nnz=" + featureIndices.length + ", label=" + label + "]";
    }
}
