package io.spillway.app.trainer;

import io.spillway.app.scaleout.DeltaLog;
import io.spillway.app.scaleout.PeerDeltas;
import io.spillway.engine.Learner;
import io.spillway.engine.TensorDelta;
import io.spillway.schemas.avro.ModelDelta;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A delta log of one partition made of this instance's committed deltas (read back from a {@link RecordingSink})
 * and other instances' deltas a test queues: each peer delta is applied to the learner once, and every delta read,
 * own ones included, is added to the log's model.
 */
final class ListDeltaLog implements DeltaLog {
    private final RecordingSink sink;
    private final String deltaTopic;
    private final Map<String, float[]> logModel = new HashMap<>();
    private final Deque<TensorDelta> peers = new ArrayDeque<>();
    private int ownRead;
    private long read;
    private long applied;
    boolean closed;

    ListDeltaLog(final RecordingSink sink, final String deltaTopic, final Map<String, float[]> start) {
        this.sink = sink;
        this.deltaTopic = deltaTopic;
        start.forEach((k, v) -> logModel.put(k, v.clone()));
    }

    /** Another instance's delta, read at the next {@link #applyAvailable}. */
    void publishFromPeer(final TensorDelta delta) {
        peers.add(delta);
    }

    @Override
    public int applyAvailable(final Learner learner, final Duration timeout) {
        final List<ModelDelta> own = sink.of(deltaTopic, ModelDelta.class);
        for (final ModelDelta d : own.subList(ownRead, own.size())) {
            add(PeerDeltas.toDelta(d));
        }
        ownRead = own.size();
        int n = 0;
        while (!peers.isEmpty()) {
            final TensorDelta d = peers.poll();
            add(d);
            learner.applyDelta(d);
            n++;
        }
        applied += n;
        return n;
    }

    private void add(final TensorDelta d) {
        final float[] w = logModel.get(d.tensor());
        for (int k = 0; k < d.indices().length; k++) {
            w[d.indices()[k]] += d.values()[k];
        }
        read++;
    }

    @Override
    public long catchUp(final Learner learner) {
        return applyAvailable(learner, Duration.ZERO);
    }

    @Override
    public boolean atEnd() {
        return peers.isEmpty() && ownRead == sink.of(deltaTopic, ModelDelta.class).size();
    }

    @Override
    public Map<Integer, Long> positions() {
        return Map.of(0, read);
    }

    @Override
    public Map<String, float[]> logWeights() {
        final Map<String, float[]> out = new HashMap<>();
        logModel.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    @Override
    public long applied() {
        return applied;
    }

    @Override
    public void close() {
        closed = true;
    }
}
