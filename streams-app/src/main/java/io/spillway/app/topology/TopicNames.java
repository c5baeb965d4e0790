package io.spillway.app.topology;

import java.util.Objects;

/**
 * Names of the topics the application reads and writes. Immutable.
 *
 * @param events input events (Confluent-Avro {@code Event}, key = entity id)
 * @param deadLetters rejected input records, original bytes plus reason headers
 * @param modelDeltas {@code ModelDelta} records
 * @param modelSnapshots {@code ModelSnapshotChunk} records (compacted)
 * @param trainingMetrics {@code TrainingMetrics} records
 * @param predictions {@code Prediction} records
 */
public record TopicNames(String events, String deadLetters, String modelDeltas, String modelSnapshots,
                         String trainingMetrics, String predictions) {

    /** The default names: events, events-dlq, model-deltas, model-snapshots, training-metrics, predictions. */
    public static final TopicNames DEFAULTS = new TopicNames("events", "events-dlq", "model-deltas",
            "model-snapshots", "training-metrics", "predictions");

    public TopicNames {
        for (final String name : new String[] {events, deadLetters, modelDeltas, modelSnapshots, trainingMetrics,
            predictions}) {
            Objects.requireNonNull(name, "topic name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("topic names must not be blank");
            }
        }
    }

    /** Same names with another input topic. */
    public TopicNames withEvents(final String name) {
        return new TopicNames(name, deadLetters, modelDeltas, modelSnapshots, trainingMetrics, predictions);
    }
}
