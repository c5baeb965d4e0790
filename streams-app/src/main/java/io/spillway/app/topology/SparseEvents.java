package io.spillway.app.topology;

import io.spillway.engine.SparseEvent;
import io.spillway.schemas.avro.Event;
import java.util.List;

/** An {@link Event} as the learner sees it: its type, sparse features and optional label. */
public final class SparseEvents {
    private SparseEvents() {
    }

    /** The event's type, features and label (an {@code Event} checked by {@link EventValidator}). */
    public static SparseEvent of(final Event event) {
        final List<Integer> indices = event.getFeatures().getIndices();
        final List<Float> values = event.getFeatures().getValues();
        final int[] idx = new int[indices.size()];
        final float[] val = new float[values.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = indices.get(i);
        }
        for (int i = 0; i < val.length; i++) {
            val[i] = values.get(i);
        }
        final Integer label = event.getLabel();
        return new SparseEvent(event.getEventType(), idx, val, label == null ? SparseEvent.NO_LABEL : label);
    }
}
