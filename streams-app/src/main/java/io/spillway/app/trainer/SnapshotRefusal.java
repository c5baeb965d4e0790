package io.spillway.app.trainer;

import java.util.Objects;

/**
 * A record or a whole snapshot version that restoring did not use, and why: an undecodable or malformed record on
 * the snapshots topic, a version that is incomplete, fails its checksum or whose payload does not decode or
 * validate, or a sound snapshot of another configuration ({@link #mismatch}).
 *
 * @param modelId the model whose snapshots were read
 * @param version the snapshot version refused, or -1 for a record whose version is not known
 * @param topic the snapshots topic
 * @param partition partition of the record (of a version: of its first chunk)
 * @param offset offset of the record (of a version: of its first chunk)
 * @param reason what is wrong, for logs and operators
 * @param mismatch whether the snapshot is sound but of another configuration (shape, optimizer, training mode,
 *     topics) rather than damaged
 */
public record SnapshotRefusal(String modelId, long version, String topic, int partition, long offset, String reason,
                              boolean mismatch) {
    public SnapshotRefusal {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(reason, "reason");
    }

    /** Whether a whole version was refused (not a single record). */
    public boolean ofVersion() {
        return version >= 0;
    }

    /** Where it is, for a log line: {@code topic-partition@offset}. */
    public String where() {
        return topic + "-" + partition + "@" + offset;
    }

    @Override
    public String toString() {
        return (ofVersion() ? "snapshot version " + version + " of model " + modelId : "record") + " at " + where()
                + ": " + reason;
    }
}
