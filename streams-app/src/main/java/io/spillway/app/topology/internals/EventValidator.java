package io.spillway.app.topology.internals;

import io.spillway.app.topology.DeadLetterReason;
import io.spillway.app.topology.TopologySettings;
import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.List;

/** Stateless checks of a decoded event against the learner's shape. Thread-safe. */
public final class EventValidator {
    private final TopologySettings settings;

    public EventValidator(final TopologySettings settings) {
        this.settings = settings;
    }

    /**
     * @param key the record key (already checked non-empty)
     * @param event the decoded value
     * @return the first problem found, or null when the event is valid
     */
    public Rejection check(final String key, final Event event) {
        if (!key.equals(event.getEntityId())) {
            return new Rejection(DeadLetterReason.KEY_MISMATCH,
                    "record key '" + key + "' differs from entityId '" + event.getEntityId() + "'");
        }
        if (event.getTimestampMs() < 0) {
            return new Rejection(DeadLetterReason.NEGATIVE_TIMESTAMP, "timestampMs is negative: " + event.getTimestampMs());
        }
        final int type = event.getEventType();
        if (type < 0 || type >= settings.vocabularySize()) {
            return new Rejection(DeadLetterReason.BAD_EVENT_TYPE,
                    "eventType " + type + " outside [0, " + settings.vocabularySize() + ")");
        }
        final Integer label = event.getLabel();
        if (label != null && (label < 0 || label >= settings.vocabularySize())) {
            return new Rejection(DeadLetterReason.BAD_LABEL,
                    "label " + label + " outside [0, " + settings.vocabularySize() + ")");
        }
        return checkFeatures(event.getFeatures());
    }

    private Rejection checkFeatures(final SparseVector features) {
        final List<Integer> indices = features.getIndices();
        final List<Float> values = features.getValues();
        if (indices.size() != values.size()) {
            return new Rejection(DeadLetterReason.BAD_FEATURE_INDEX,
                    indices.size() + " feature indices but " + values.size() + " values");
        }
        int previous = -1;
        for (int i = 0; i < indices.size(); i++) {
            final int index = indices.get(i);
            if (index < 0 || index >= settings.featureDimension()) {
                return new Rejection(DeadLetterReason.BAD_FEATURE_INDEX,
                        "feature index " + index + " outside [0, " + settings.featureDimension() + ")");
            }
            if (index <= previous) {
                return new Rejection(DeadLetterReason.BAD_FEATURE_INDEX,
                        "feature indices not strictly increasing at position " + i + ": " + previous + ", " + index);
            }
            previous = index;
            final float value = values.get(i);
            if (!Float.isFinite(value) || Math.abs(value) > settings.maxFeatureMagnitude()) {
                return new Rejection(DeadLetterReason.BAD_FEATURE_VALUE, "feature " + index + " has value " + value
                        + " (must be finite with |v| <= " + settings.maxFeatureMagnitude() + ")");
            }
        }
        return null;
    }

    /** Converts a valid event to the learner's form. */
    public static SparseEvent toSparseEvent(final Event event) {
        final List<Integer> indices = event.getFeatures().getIndices();
        final List<Float> values = event.getFeatures().getValues();
        final int[] idx = new int[indices.size()];
        final float[] val = new float[idx.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = indices.get(i);
            val[i] = values.get(i);
        }
        final Integer label = event.getLabel();
        return new SparseEvent(event.getEventType(), idx, val, label == null ? SparseEvent.NO_LABEL : label);
    }
}
