package io.spillway.app.topology;

import java.util.List;
import java.util.Objects;

/**
 * The topic names the app reads and writes. Defaults are listed in docs/topics.md; every name can be changed.
 *
 * @param events input: Avro {@code Event}, key = entity id
 * @param deadLetters records that could not be trained, with the reason in headers and the original bytes
 * @param deltas Avro {@code ModelDelta}: every applied parameter change
 * @param snapshots Avro {@code ModelSnapshotChunk}, compacted: full learner state, chunked
 * @param metrics Avro {@code TrainingMetrics}, one per training step
 * @param predictions Avro {@code Prediction}, one per trained event (predicted before learning)
 * @param chunks internal, one partition: the completed chunks in the order the trainer trains them, written by
 *        the topology in its exactly-once transactions (see {@code ChunkRecords})
 */
public record Topics(String events, String deadLetters, String deltas, String snapshots, String metrics,
                     String predictions, String chunks) {

    public Topics {
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(deadLetters, "deadLetters");
        Objects.requireNonNull(deltas, "deltas");
        Objects.requireNonNull(snapshots, "snapshots");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(predictions, "predictions");
        Objects.requireNonNull(chunks, "chunks");
    }

    public static Topics defaults() {
        return new Topics("events", "events-dlq", "model-deltas", "model-snapshots", "training-metrics", "predictions",
                "training-chunks");
    }

    /** The topics the app writes. */
    public List<String> outputs() {
        return List.of(deadLetters, deltas, snapshots, metrics, predictions);
    }

    public List<String> all() {
        return List.of(events, deadLetters, deltas, snapshots, metrics, predictions, chunks);
    }
}
