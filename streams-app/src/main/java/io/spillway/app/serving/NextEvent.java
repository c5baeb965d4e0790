package io.spillway.app.serving;

import java.util.List;

/**
 * A key's next-event distribution after the events it has sent: the most probable types with their probabilities,
 * the model version that produced it and the offset of the last event scored.
 *
 * @param key entity id
 * @param modelVersion the version whose weights produced it
 * @param offset offset of the event it follows in the scored topic, or -1 (an HTTP request's own events, or a
 *     key's state read back)
 * @param predictedType the most probable type, as the trainer predicts it: the network's distribution mixed with the
 *     context model's where the model has one ({@link Predictor})
 * @param probability its probability
 * @param top the {@code k} most probable types, most probable first
 */
public record NextEvent(String key, long modelVersion, long offset, int predictedType, float probability,
                        List<Candidate> top) {
    public NextEvent {
        top = List.copyOf(top);
    }

    /** One event type and its probability. */
    public record Candidate(int eventType, float probability) {
    }
}
