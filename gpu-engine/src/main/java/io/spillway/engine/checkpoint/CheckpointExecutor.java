package io.spillway.engine.checkpoint;

import io.spillway.engine.checkpoint.store.OffChipStore;
import io.spillway.engine.checkpoint.store.OffChipStores;
import io.spillway.engine.memory.Allocation;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryBudgetExceededException;
import io.spillway.engine.memory.MemoryTier;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one window of a {@link RecurrentModel} forward and backward under a {@link Schedule}: full BPTT, standard
 * (uniform local) checkpointing, remote checkpointing, or double checkpointing (docs/spec-double-checkpointing.md
 * §2.8). All schedules drive the model through the same three functions in the same order per step, so their gradients
 * are bitwise equal. Every live local state and tape is booked with the {@link MemoryAccountant} (so a schedule that
 * does not fit fails with {@code MemoryBudgetExceededException}); off-chip records go through an {@link OffChipStore},
 * and the previous remote checkpoint is prefetched on a background thread while the current segment is recomputed.
 * Optionally, the next local sub-segment is recomputed on a second thread while the current one is back-propagated, so
 * the extra forward passes overlap the backward pass.
 *
 * <p>Threading: one window at a time; the prefetch and recompute threads are internal. The off-chip store is kept between
 * windows and reused as a ring (docs/spec-double-checkpointing.md §2.9), grown when a window needs more slots. Close to
 * stop the thread and free the store.
 */
public final class CheckpointExecutor implements AutoCloseable {
    private final MemoryAccountant accountant;
    private final OffChipStores stores;
    private final boolean tailReuse;
    private final Reuse reuse;
    private final ExecutorService prefetcher;
    private final ExecutorService recomputer;

    /**
     * @param tailReuse record the tapes of the last (sub-)segment when it is first computed (saves its
     *     recomputation; docs/spec-double-checkpointing.md §2.2 and §2.5)
     * @param prefetch read the previous remote checkpoint on a background thread while computing
     */
    public CheckpointExecutor(final MemoryAccountant accountant, final OffChipStores stores, final boolean tailReuse,
                              final boolean prefetch) {
        this(accountant, stores, tailReuse ? Reuse.TAIL : Reuse.NONE, prefetch);
    }

    /**
     * @param reuse how much of the first pass is kept rather than recomputed
     * @param prefetch read the previous remote checkpoint on a background thread while computing
     */
    public CheckpointExecutor(final MemoryAccountant accountant, final OffChipStores stores, final Reuse reuse,
                              final boolean prefetch) {
        this(accountant, stores, reuse, prefetch, false);
    }

    /**
     * @param reuse how much of the first pass is kept rather than recomputed
     * @param prefetch read the previous remote checkpoint on a background thread while computing
     * @param recomputeAhead during the backward sweep of a local sub-segment, recompute the next one (its tapes)
     *     on a second thread, for models that offer a {@link RecurrentModel#concurrentForward()}: the extra
     *     forward passes of uniform and double checkpointing then overlap the backward pass on a second core.
     *     Gradients are unchanged (the same steps run in the same order per state); the peak device bytes grow
     *     by up to one sub-segment of tapes and a state, taken only where the budget has room: when it does
     *     not, that sub-segment is recomputed inline as without this option
     */
    public CheckpointExecutor(final MemoryAccountant accountant, final OffChipStores stores, final Reuse reuse,
                              final boolean prefetch, final boolean recomputeAhead) {
        this.accountant = Objects.requireNonNull(accountant, "accountant");
        this.stores = Objects.requireNonNull(stores, "stores");
        this.reuse = Objects.requireNonNull(reuse, "reuse");
        this.tailReuse = reuse != Reuse.NONE;
        this.prefetcher = prefetch ? daemonThread("spillway-checkpoint-prefetch") : null;
        this.recomputer = recomputeAhead ? daemonThread("spillway-checkpoint-recompute") : null;
    }

    private static ExecutorService daemonThread(final String name) {
        return Executors.newSingleThreadExecutor(r -> {
            final Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The off-chip store kept between windows (docs/spec-double-checkpointing.md §2.9: the slab or file is a ring), and
     * its booking.
     */
    private OffChipStore ring;
    private Allocation ringBooking;

    /**
     * A store with room for {@code records} records of {@code recordBytes}: the one of the previous window when
     * it is large enough, else a new one (the old one is freed first).
     */
    private OffChipStore storeFor(final int records, final int recordBytes) {
        if (ring != null && ring.capacity() >= records && ring.recordBytes() >= recordBytes) {
            return ring;
        }
        final int capacity = ring == null ? records : Math.max(records, ring.capacity());
        dropStore();
        final OffChipStore created = stores.create(capacity, recordBytes);
        try {
            ringBooking = accountant.allocate(MemoryTier.OFF_CHIP, created.reservedBytes(), "remote checkpoints");
        } catch (final RuntimeException e) {
            created.close();
            throw e;
        }
        ring = created;
        return ring;
    }

    private void dropStore() {
        if (ring != null) {
            ring.close();
            ringBooking.close();
            ring = null;
            ringBooking = null;
        }
    }

    /** The final state (carried into the next window) and what the window cost. */
    public record Result<S>(S finalState, CheckpointStats stats) {
    }

    /** Trains one window of {@code steps} from {@code initial}; the model accumulates the gradients. */
    public <S, T> Result<S> run(final RecurrentModel<S, T> model, final S initial, final int steps,
                                final Schedule schedule) {
        if (steps <= 0) {
            throw new IllegalArgumentException("a window needs at least one step: " + steps);
        }
        accountant.resetPeaks();
        final Window<S, T> w = new Window<>(model, steps);
        try {
            w.bookWorkingState(initial);
            final S end = switch (schedule) {
                case Schedule.Bptt b -> w.bptt(initial);
                case Schedule.Uniform u -> w.uniform(initial, u.interval());
                case Schedule.Remote r -> w.remote(initial, r.interval());
                case Schedule.DoubleCheckpoint d -> w.doubleCheckpoint(initial, d.remoteInterval(), d.localInterval());
            };
            return new Result<>(end, w.stats());
        } finally {
            w.release();
        }
    }

    @Override
    public void close() {
        if (prefetcher != null) {
            prefetcher.shutdownNow();
        }
        if (recomputer != null) {
            recomputer.shutdownNow();
        }
        dropStore();
    }

    /** The state of one window's run: counters, bookings and the backward sweep. */
    private final class Window<S, T> {
        private final RecurrentModel<S, T> model;
        private final int steps;
        /** Bookings of live local states and tapes, released on return or failure. */
        private final Set<Allocation> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        /** The second thread's forward pass, or null when recomputation runs only on the calling thread. */
        private final ForwardPass<S, T> ahead;
        private Future<Deque<Booked<T>>> pendingRecompute;
        private RecurrentModel.Backward<T> backward;
        private long forward;
        private long backwardSteps;
        private long writes;
        private long reads;
        private long bytesWritten;
        private long bytesRead;
        private int liveSlots;
        private int peakSlots;
        private OffChipStore store;
        private final List<Future<?>> pendingWrites = new ArrayList<>();
        private long stagingBytes;

        Window(final RecurrentModel<S, T> model, final int steps) {
            this.model = model;
            this.steps = steps;
            this.ahead = recomputer == null ? null : model.concurrentForward().orElse(null);
        }

        /**
         * Books the state being advanced (one per window, sized like the initial state) and sizes the staging
         * buffers that receive remote checkpoints like it, so peaks equal the spec's formulas plus this state.
         */
        void bookWorkingState(final S initial) {
            stagingBytes = model.stateBytes(initial);
            live.add(accountant.allocate(MemoryTier.DEVICE, stagingBytes, "working state"));
        }

        S bptt(final S initial) {
            final Deque<Booked<T>> tapes = new ArrayDeque<>();
            S s = initial;
            for (int t = 0; t < steps; t++) {
                final RecurrentModel.Taped<S, T> taped = stepWithTape(s, t);
                tapes.push(tape(taped.tape()));
                s = taped.state();
            }
            backward = model.beginBackward();
            drain(tapes);
            return s;
        }

        S uniform(final S initial, final int interval) {
            // Standard checkpointing is one level of the double schedule's local pass over the whole window.
            final Local<S, T> kept = local(initial, 0, steps, interval, true);
            backward = model.beginBackward();
            sweep(kept, 0, steps, interval);
            return kept.end();
        }

        S remote(final S initial, final int interval) {
            openStore(Schedule.ceilDiv(steps, interval));
            final Deque<Booked<T>> tail = new ArrayDeque<>();
            final int tailStart = lastStart(steps, interval);
            final int segments = Schedule.ceilDiv(steps, interval);
            S s = initial;
            for (int t = 0; t < steps; t++) {
                if (t % interval == 0) {
                    write(t / interval, s); // the tail's too, so a restart could resume from it
                }
                if (tailReuse && t >= tailStart) {
                    final RecurrentModel.Taped<S, T> taped = stepWithTape(s, t);
                    tail.push(tape(taped.tape()));
                    s = taped.state();
                } else {
                    s = step(s, t, true);
                }
            }
            flushWrites();
            backward = model.beginBackward();
            if (tailReuse) {
                drain(tail);
            }
            final int last = tailReuse ? segments - 2 : segments - 1;
            Fetch<S> next = last >= 0 ? fetch(last) : null;
            for (int j = last; j >= 0; j--) {
                // The staging buffer stays booked while its state seeds the segment: with the prefetch of
                // j-1 in flight that is the spec's two staging buffers (C + 2 states and tapes).
                final S start = next.state();
                final Allocation staged = next.staging();
                next = j > 0 ? fetch(j - 1) : null;
                final int a = j * interval;
                recomputeAndBackprop(start, a, Math.min(a + interval, steps));
                free(staged);
            }
            return s;
        }

        S doubleCheckpoint(final S initial, final int cr, final int cl) {
            final int segments = Schedule.ceilDiv(steps, cr);
            final int lastA = (segments - 1) * cr;
            final boolean full = reuse == Reuse.FULL;
            openStore(segments);
            S s = initial;
            for (int t = 0; t < (full ? lastA : steps); t++) {
                if (t % cr == 0) {
                    write(t / cr, s);
                }
                s = step(s, t, true);
            }
            Local<S, T> kept = null;
            if (full) { // pass 1 builds the last segment's local checkpoints and tail tapes itself
                write(segments - 1, s);
                kept = local(s, lastA, steps, cl, true);
                s = kept.end();
            }
            flushWrites();
            backward = model.beginBackward();
            int j = segments - 1;
            if (kept != null) {
                sweep(kept, lastA, steps, cl);
                j--;
            }
            Fetch<S> next = j >= 0 ? fetch(j) : null;
            for (; j >= 0; j--) {
                // The fetched state becomes the first local checkpoint, so its staging buffer is free again
                // for the prefetch of j-1: one staging buffer beside K_l checkpoints and C_l tapes.
                final S start = next.state();
                free(next.staging());
                next = j > 0 ? fetch(j - 1) : null;
                final int a = j * cr;
                final int b = Math.min(a + cr, steps);
                sweep(local(start, a, b, cl, false), a, b, cl); // passes 2 and 3
            }
            return s;
        }

        /**
         * Pass 2 over {@code [a, b)}: local checkpoints every {@code cl} steps and, with tail reuse, the last
         * sub-segment's tapes instead of its checkpoint.
         */
        private Local<S, T> local(final S start, final int a, final int b, final int cl, final boolean record) {
            final int lastSub = a + lastStart(b - a, cl);
            final List<Booked<S>> local = new ArrayList<>();
            final Deque<Booked<T>> tail = new ArrayDeque<>();
            S u = start;
            for (int t = a; t < b; t++) {
                if ((t - a) % cl == 0 && !(tailReuse && t == lastSub)) {
                    local.add(checkpoint(u));
                }
                if (tailReuse && t >= lastSub) {
                    final RecurrentModel.Taped<S, T> taped = stepWithTape(u, t);
                    tail.push(tape(taped.tape()));
                    u = taped.state();
                } else {
                    u = step(u, t, record);
                }
            }
            return new Local<>(local, tail, u);
        }

        /** Pass 3: the kept tail, then each remaining sub-segment, last first, recomputed with tapes. */
        private void sweep(final Local<S, T> kept, final int a, final int b, final int cl) {
            final List<Booked<S>> local = kept.checkpoints();
            if (ahead == null) {
                drain(kept.tail());
                for (int k = local.size() - 1; k >= 0; k--) {
                    final int c = a + k * cl;
                    recomputeAndBackprop(local.get(k).value(), c, Math.min(c + cl, b));
                    release(local.remove(k));
                }
                return;
            }
            // The second thread recomputes sub-segment k-1 while this one back-propagates sub-segment k.
            int k = local.size() - 1;
            if (k >= 0) {
                recomputeAhead(local.get(k).value(), a + k * cl, Math.min(a + (k + 1) * cl, b));
            }
            drain(kept.tail());
            for (; k >= 0; k--) {
                final int c = a + k * cl;
                final int end = Math.min(c + cl, b);
                Deque<Booked<T>> tapes = collectRecompute();
                if (tapes == null) { // no room beside the sub-segment being swept: recompute it here
                    tapes = recompute(local.get(k).value(), c, end);
                } else {
                    forward += end - c;
                }
                release(local.remove(k));
                if (k > 0) {
                    recomputeAhead(local.get(k - 1).value(), c - cl, c);
                }
                drain(tapes);
            }
        }

        private void recomputeAndBackprop(final S from, final int a, final int b) {
            drain(recompute(from, a, b));
        }

        private Deque<Booked<T>> recompute(final S from, final int a, final int b) {
            final Deque<Booked<T>> tapes = new ArrayDeque<>();
            S u = from;
            for (int t = a; t < b; t++) {
                final RecurrentModel.Taped<S, T> taped = stepWithTape(u, t);
                tapes.push(tape(taped.tape()));
                u = taped.state();
            }
            return tapes;
        }

        /**
         * Starts recomputing {@code [a, b)} from {@code from} on the second thread. Its tapes and its working state
         * are booked as it goes; if the budget has no room for them it gives back what it booked and yields null.
         */
        private void recomputeAhead(final S from, final int a, final int b) {
            pendingRecompute = recomputer.submit(() -> {
                final Deque<Booked<T>> tapes = new ArrayDeque<>();
                Allocation working = null;
                try {
                    working = accountant.allocate(MemoryTier.DEVICE, stagingBytes, "recompute-ahead working state");
                    S u = from;
                    for (int t = a; t < b; t++) {
                        final RecurrentModel.Taped<S, T> taped = ahead.stepWithTape(u, t);
                        tapes.push(tape(taped.tape()));
                        u = taped.state();
                    }
                    return tapes;
                } catch (final MemoryBudgetExceededException e) {
                    tapes.forEach(this::release);
                    return null;
                } finally {
                    if (working != null) {
                        working.close();
                    }
                }
            });
        }

        /** The tapes of the pending recomputation, or null when it found no room (then nothing is booked). */
        private Deque<Booked<T>> collectRecompute() {
            final Future<Deque<Booked<T>>> f = pendingRecompute;
            pendingRecompute = null;
            return await(f, "recomputing a checkpoint segment");
        }

        /** Back-propagates the tapes, newest first, and frees each as soon as it is used. */
        private void drain(final Deque<Booked<T>> tapes) {
            while (!tapes.isEmpty()) {
                final Booked<T> tape = tapes.pop();
                backward.step(tape.value());
                backwardSteps++;
                release(tape);
            }
        }

        private S step(final S s, final int t, final boolean record) {
            forward++;
            return model.step(s, t, record);
        }

        private RecurrentModel.Taped<S, T> stepWithTape(final S s, final int t) {
            forward++;
            return model.stepWithTape(s, t);
        }

        private Booked<T> tape(final T tape) {
            return book(tape, model.tapeBytes(tape), "tape");
        }

        private Booked<S> checkpoint(final S state) {
            return book(state, model.stateBytes(state), "local checkpoint");
        }

        private synchronized <V> Booked<V> book(final V value, final long bytes, final String purpose) {
            final Allocation a = accountant.allocate(MemoryTier.DEVICE, bytes, purpose);
            live.add(a);
            liveSlots++;
            peakSlots = Math.max(peakSlots, liveSlots);
            return new Booked<>(value, a);
        }

        private synchronized void release(final Booked<?> booked) {
            booked.allocation().close();
            live.remove(booked.allocation());
            liveSlots--;
        }

        private void openStore(final int records) {
            final int recordBytes = model.codec().maxEncodedBytes();
            store = storeFor(records, recordBytes);
        }

        private void write(final int slot, final S state) {
            final ByteBuffer record = ByteBuffer.allocate(model.codec().maxEncodedBytes());
            model.codec().encode(state, record);
            record.flip();
            final int n = record.remaining();
            if (prefetcher == null) {
                store.write(slot, record);
            } else {
                // Written on the I/O thread while pass 1 goes on; that thread runs tasks in order, so every
                // read queued later sees the write done (the spec's fence), and flushWrites surfaces failures.
                pendingWrites.add(prefetcher.submit(() -> store.write(slot, record)));
            }
            writes++;
            bytesWritten += n;
            accountant.recordTransfer(n);
        }

        /** Waits for the asynchronous writes of pass 1; a failed write fails the window here. */
        private void flushWrites() {
            for (final Future<?> w : pendingWrites) {
                await(w);
            }
            pendingWrites.clear();
        }

        /** Starts reading {@code slot} into a newly booked staging buffer (on the prefetch thread if any). */
        private Fetch<S> fetch(final int slot) {
            final Allocation staging = accountant.allocate(MemoryTier.DEVICE, stagingBytes, "staging buffer");
            live.add(staging);
            final Future<S> future = prefetcher == null
                    ? CompletableFuture.completedFuture(readNow(slot))
                    : prefetcher.submit(() -> readNow(slot));
            return new Fetch<>(future, staging, this);
        }

        private void free(final Allocation a) {
            a.close();
            live.remove(a);
        }

        private S readNow(final int slot) {
            final ByteBuffer record = store.read(slot);
            final int n = record.remaining();
            final S state = model.codec().decode(record);
            synchronized (this) {
                reads++;
                bytesRead += n;
            }
            accountant.recordTransfer(n);
            return state;
        }

        private <V> V await(final Future<V> future) {
            return await(future, "off-chip checkpoint I/O");
        }

        /** The task's result; its failure wrapped with a message naming {@code what}, the cause kept. */
        private <V> V await(final Future<V> future, final String what) {
            try {
                return future.get();
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during " + what, e);
            } catch (final ExecutionException e) {
                throw new IllegalStateException(what + " failed: " + e.getCause(), e.getCause());
            }
        }

        synchronized CheckpointStats stats() {
            return new CheckpointStats(steps, forward, backwardSteps, writes, reads, bytesWritten, bytesRead, peakSlots,
                    accountant.peakBytes(MemoryTier.DEVICE));
        }

        void release() {
            if (pendingRecompute != null) { // a failed window: the second thread stops booking before we free all
                try {
                    pendingRecompute.get();
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (final ExecutionException e) {
                    // the window already failed; its bookings are freed below
                }
                pendingRecompute = null;
            }
            for (final Future<?> w : pendingWrites) { // a failed window: let queued writes finish before reuse
                try {
                    w.get();
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (final ExecutionException e) {
                    // already reported by flushWrites, or the window failed for another reason first
                }
            }
            pendingWrites.clear();
            live.forEach(Allocation::close);
            live.clear();
        }
    }

    /** First step of the last of the segments of {@code interval} steps covering {@code steps}. */
    private static int lastStart(final int steps, final int interval) {
        return steps - Schedule.lastLength(steps, interval);
    }

    private record Booked<V>(V value, Allocation allocation) {
    }

    /** A remote segment's local checkpoints and kept tail tapes, and the state at its end. */
    private record Local<S, T>(List<Booked<S>> checkpoints, Deque<Booked<T>> tail, S end) {
    }

    /** A remote read in flight and the staging buffer booked for it. */
    private record Fetch<S>(Future<S> future, Allocation staging, Window<S, ?> window) {
        S state() {
            return window.await(future);
        }
    }
}
