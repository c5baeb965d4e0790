package io.spillway.app.trainer;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's snapshot versions, newest first, each offered once; what restoring reads ({@link SnapshotReader} on
 * the snapshots topic). Not thread-safe.
 */
public interface SnapshotSource {

    /** The newest version not offered yet that is complete and matches its checksum; empty when none is left. */
    Optional<SnapshotReader.Snapshot> next() throws IOException;

    /**
     * Reports that the caller could not use {@code snapshot}, the last {@link #next} gave.
     *
     * @param mismatch whether it is sound but of another configuration, rather than damaged
     */
    void refuse(SnapshotReader.Snapshot snapshot, String reason, boolean mismatch);

    /** Every record and version refused so far, in order. */
    List<SnapshotRefusal> refusals();

    /** Complete versions older than the last one {@link #next} gave, version to chunk count, oldest first. */
    Map<Long, Integer> olderVersions();
}
