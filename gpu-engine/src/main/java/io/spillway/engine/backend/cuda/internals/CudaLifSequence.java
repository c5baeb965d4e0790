package io.spillway.engine.backend.cuda.internals;

import io.spillway.engine.memory.MemoryTier;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a {@link CudaLifLayer} over one window of T steps on the GPU with either full BPTT (every state
 * kept on the device) or double checkpointing (docs/spec-double-checkpointing.md §2.8): remote checkpoints every
 * C_r steps spilled to pinned host memory on a copy stream, local checkpoints every C_l steps, tapes only
 * for one local sub-segment. Spills and prefetches run on the copy stream and are ordered by events, so
 * they overlap compute. Both schedules run the same kernels in the same order per step, so their
 * gradients are bitwise equal.
 */
public final class CudaLifSequence {
    private final CudaDevice device;
    private final CudaLifLayer layer;

    public CudaLifSequence(final CudaDevice device, final CudaLifLayer layer) {
        this.device = device;
        this.layer = layer;
    }

    /**
     * What a window cost.
     *
     * @param forwardSteps first-pass steps (T)
     * @param recomputedSteps extra forward steps of passes 2 and 3
     * @param remoteWrites checkpoints spilled to host
     * @param remoteReads checkpoints read back
     * @param peakDeviceBytes accountant's device high-water mark during the window
     * @param offChipBytes pinned host bytes of the remote slots
     * @param transferBytes bytes copied between device and host
     */
    public record Report(long forwardSteps, long recomputedSteps, long remoteWrites, long remoteReads,
                         long peakDeviceBytes, long offChipBytes, long transferBytes) {
    }

    /** Full BPTT: T + 1 states on the device. {@code ids} holds T x batch event types. */
    public Report bptt(final DeviceBuffer ids, final int steps) {
        device.accountant().resetPeaks();
        final List<CudaLifState> states = new ArrayList<>(steps + 1);
        try {
            for (int t = 0; t <= steps; t++) {
                states.add(layer.newState("bptt state"));
            }
            for (int t = 0; t < steps; t++) {
                layer.forward(states.get(t), input(ids, t), states.get(t + 1));
            }
            try (Adjoint adjoint = new Adjoint()) {
                for (int t = steps - 1; t >= 0; t--) {
                    adjoint.step(states.get(t), states.get(t + 1), input(ids, t));
                }
            }
            device.synchronize();
            return new Report(steps, 0, 0, 0, device.accountant().peakBytes(MemoryTier.DEVICE), 0, 0);
        } finally {
            states.forEach(CudaLifState::close);
        }
    }

    /** Double checkpointing with remote interval {@code cr} and local interval {@code cl}. */
    public Report doubleCheckpointed(final DeviceBuffer ids, final int steps, final int cr, final int cl) {
        if (cr <= 0 || cl <= 0) {
            throw new IllegalArgumentException("intervals must be positive: Cr=" + cr + " Cl=" + cl);
        }
        device.accountant().resetPeaks();
        final int remoteCount = (steps + cr - 1) / cr;
        final long stateBytes = layer.stateBytes();
        final Driver driver = device.driver();
        final long transfersBefore = device.accountant().transferredBytes();
        long recomputed = 0;
        final List<AutoCloseable> owned = new ArrayList<>();
        try {
            final PinnedBuffer remote = device.allocatePinned(stateBytes * remoteCount, "remote checkpoints");
            owned.add(remote);
            final CudaLifState[] rolling = {state(owned, "rolling"), state(owned, "rolling")};
            final CudaLifState[] staging = {state(owned, "spill staging"), state(owned, "spill staging")};
            final MemorySegment[] staged = {driver.createEvent(), driver.createEvent()};
            final MemorySegment[] spilled = {driver.createEvent(), driver.createEvent()};
            boolean[] stagingBusy = {false, false};
            // Pass 1: forward without tapes; spill the state before every C_r-th step.
            int cur = 0;
            for (int t = 0; t < steps; t++) {
                if (t % cr == 0) {
                    final int j = t / cr;
                    final int s = j % 2;
                    if (stagingBusy[s]) {
                        driver.waitEvent(device.computeStream(), spilled[s]);
                    }
                    copy(rolling[cur], staging[s]);
                    driver.record(staged[s], device.computeStream());
                    driver.waitEvent(device.copyStream(), staged[s]);
                    driver.copyToHostAsync(remote.segment().asSlice(j * stateBytes, stateBytes),
                            staging[s].memory().pointer(), stateBytes, device.copyStream());
                    driver.record(spilled[s], device.copyStream());
                    stagingBusy[s] = true;
                    device.accountant().recordTransfer(stateBytes);
                }
                layer.forward(rolling[cur], input(ids, t), rolling[1 - cur]);
                cur = 1 - cur;
            }
            driver.synchronize(device.copyStream());
            // Passes 2 and 3, segment by segment in reverse, prefetching the previous remote checkpoint.
            final CudaLifState[] segmentStart = {state(owned, "prefetch"), state(owned, "prefetch")};
            final MemorySegment[] loaded = {driver.createEvent(), driver.createEvent()};
            final int localSlots = (Math.min(cr, steps) + cl - 1) / cl;
            final CudaLifState[] local = new CudaLifState[localSlots];
            for (int i = 0; i < localSlots; i++) {
                local[i] = state(owned, "local checkpoint");
            }
            final CudaLifState[] tape = new CudaLifState[cl + 1];
            for (int i = 0; i <= cl; i++) {
                tape[i] = state(owned, "tape");
            }
            final MemorySegment free = driver.createEvent();
            prefetch(remote, remoteCount - 1, segmentStart[(remoteCount - 1) % 2], loaded[(remoteCount - 1) % 2]);
            try (Adjoint adjoint = new Adjoint()) {
                for (int j = remoteCount - 1; j >= 0; j--) {
                    final int a = j * cr;
                    final int b = Math.min(a + cr, steps);
                    driver.waitEvent(device.computeStream(), loaded[j % 2]);
                    if (j > 0) {
                        // The buffer for j-1 was last read by segment j+1's pass 2, which the compute stream
                        // finished queuing; order the copy after it.
                        driver.record(free, device.computeStream());
                        driver.waitEvent(device.copyStream(), free);
                        prefetch(remote, j - 1, segmentStart[(j - 1) % 2], loaded[(j - 1) % 2]);
                    }
                    // Pass 2: rebuild the local checkpoints of this segment.
                    copy(segmentStart[j % 2], rolling[0]);
                    int u = 0;
                    for (int t = a; t < b; t++) {
                        if ((t - a) % cl == 0) {
                            copy(rolling[u], local[(t - a) / cl]);
                        }
                        if (t + 1 < b) {
                            layer.forward(rolling[u], input(ids, t), rolling[1 - u]);
                            u = 1 - u;
                            recomputed++;
                        }
                    }
                    // Pass 3: per local sub-segment in reverse, recompute with tapes and back-propagate.
                    for (int c = ((b - a - 1) / cl) * cl + a; c >= a; c -= cl) {
                        final int e = Math.min(c + cl, b);
                        copy(local[(c - a) / cl], tape[0]);
                        for (int t = c; t < e; t++) {
                            layer.forward(tape[t - c], input(ids, t), tape[t - c + 1]);
                            recomputed++;
                        }
                        for (int t = e - 1; t >= c; t--) {
                            adjoint.step(tape[t - c], tape[t - c + 1], input(ids, t));
                        }
                    }
                }
            }
            device.synchronize();
            // Pass 3 recomputes every step once more; pass 2 recomputes all but the last of each segment.
            return new Report(steps, recomputed, remoteCount, remoteCount,
                    device.accountant().peakBytes(MemoryTier.DEVICE), stateBytes * remoteCount,
                    device.accountant().transferredBytes() - transfersBefore);
        } finally {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (final Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void prefetch(final PinnedBuffer remote, final int j, final CudaLifState into, final MemorySegment done) {
        final long stateBytes = layer.stateBytes();
        final Driver driver = device.driver();
        driver.copyToDeviceAsync(into.memory().pointer(), remote.segment().asSlice(j * stateBytes, stateBytes),
                stateBytes, device.copyStream());
        driver.record(done, device.copyStream());
        device.accountant().recordTransfer(stateBytes);
    }

    private CudaLifState state(final List<AutoCloseable> owned, final String purpose) {
        final CudaLifState s = layer.newState(purpose);
        owned.add(s);
        return s;
    }

    private void copy(final CudaLifState from, final CudaLifState to) {
        device.driver().copyDeviceToDeviceAsync(to.memory().pointer(), from.memory().pointer(), layer.stateBytes(),
                device.computeStream());
    }

    private DeviceBuffer input(final DeviceBuffer ids, final int t) {
        return ids.view(4L * t * layer.batch(), 4L * layer.batch());
    }

    /** The adjoint of V carried backwards across steps and segments (two buffers, swapped per step). */
    private final class Adjoint implements AutoCloseable {
        private DeviceBuffer next;
        private DeviceBuffer out;

        Adjoint() {
            final long bytes = 4L * layer.batch() * layer.neurons();
            next = device.allocate(bytes, "adjoint");
            out = device.allocate(bytes, "adjoint");
            device.fill(next, 0);
        }

        void step(final CudaLifState prev, final CudaLifState current, final DeviceBuffer inputIds) {
            layer.backward(prev, current, inputIds, next, out);
            final DeviceBuffer swap = next;
            next = out;
            out = swap;
        }

        @Override
        public void close() {
            next.close();
            out.close();
        }
    }
}
