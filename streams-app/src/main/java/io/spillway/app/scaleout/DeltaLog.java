package io.spillway.app.scaleout;

import io.spillway.engine.Learner;
import java.time.Duration;
import java.util.Map;

/**
 * The delta log as a split-training instance reads it: every committed delta of its model, the other instances'
 * applied to its learner, and the log's model (its start plus every delta read, own ones included), which its
 * snapshots publish. The Kafka implementation is {@link PeerDeltas}; tests may supply their own.
 *
 * <p>Threading: the trainer thread only (the learner is not thread-safe).
 */
public interface DeltaLog extends AutoCloseable {

    /** Applies the other instances' deltas that arrived within {@code timeout}; returns how many. */
    int applyAvailable(Learner learner, Duration timeout);

    /** Reads and applies the log up to its end as of now (a new instance's catch-up); returns the deltas applied. */
    long catchUp(Learner learner);

    /** Whether every committed delta published so far has been read. */
    boolean atEnd();

    /** Offsets of the next records to read, per partition of the delta topic: what {@link #logWeights()} includes. */
    Map<Integer, Long> positions();

    /** The log's start (initial or snapshot weights) plus every delta of the model read so far, own ones included. */
    Map<String, float[]> logWeights();

    /** The other instances' deltas applied so far. */
    long applied();

    @Override
    void close();
}
