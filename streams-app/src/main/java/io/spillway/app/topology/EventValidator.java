package io.spillway.app.topology;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.util.List;
import java.util.Optional;

/**
 * Checks a decoded event against the model's limits and its key. Stateless; the per-key timestamp order
 * is checked by the chunking processor, which holds the last timestamp.
 */
public final class EventValidator {
    private final EventLimits limits;

    public EventValidator(final EventLimits limits) {
        this.limits = limits;
    }

    EventLimits limits() {
        return limits;
    }

    /** Checked before decoding: a value too large to be an event is not decoded at all. */
    public Optional<Rejection> checkSize(final int valueBytes) {
        if (valueBytes > limits.maxEventBytes()) {
            return reject("oversized-event", "event of " + valueBytes + " bytes exceeds " + limits.maxEventBytes());
        }
        return Optional.empty();
    }

    /** The first problem found in a decoded event (its size passed {@link #checkSize}), or empty when it can be trained. */
    public Optional<Rejection> check(final String key, final Event event) {
        if (key == null || key.isEmpty()) {
            return reject("missing-key", "record has no key; the key must be the entity id '" + event.getEntityId() + "'");
        }
        if (!key.equals(event.getEntityId())) {
            return reject("key-mismatch", "record key '" + key + "' differs from entityId '" + event.getEntityId() + "'");
        }
        if (event.getTimestampMs() < 0) {
            return reject("negative-timestamp", "timestampMs " + event.getTimestampMs() + " is negative");
        }
        if (event.getEventType() < 0 || event.getEventType() >= limits.vocabularySize()) {
            return reject("event-type-out-of-range", "eventType " + event.getEventType() + " not in [0, "
                    + limits.vocabularySize() + ")");
        }
        final Integer label = event.getLabel();
        if (label != null && (label < 0 || label >= limits.vocabularySize())) {
            return reject("label-out-of-range", "label " + label + " not in [0, " + limits.vocabularySize() + ")");
        }
        return checkFeatures(event.getFeatures());
    }

    private Optional<Rejection> checkFeatures(final SparseVector features) {
        final List<Integer> indices = features.getIndices();
        final List<Float> values = features.getValues();
        if (indices.size() != values.size()) {
            return reject("feature-length-mismatch", indices.size() + " feature indices but " + values.size() + " values");
        }
        if (indices.size() > limits.maxFeatures()) {
            return reject("oversized-event", indices.size() + " features exceed the limit of " + limits.maxFeatures());
        }
        int previous = -1;
        for (int i = 0; i < indices.size(); i++) {
            final int index = indices.get(i);
            if (index < 0 || index >= limits.featureDimension()) {
                return reject("feature-index-out-of-range", "feature index " + index + " not in [0, "
                        + limits.featureDimension() + ")");
            }
            if (index <= previous) {
                return reject("feature-indices-not-increasing", "feature indices must be strictly increasing: " + previous
                        + " then " + index);
            }
            previous = index;
            final float value = values.get(i);
            if (!Float.isFinite(value)) {
                return reject("non-finite-feature", "feature " + index + " has value " + value);
            }
        }
        return Optional.empty();
    }

    private static Optional<Rejection> reject(final String reason, final String message) {
        return Optional.of(new Rejection(reason, message));
    }
}
