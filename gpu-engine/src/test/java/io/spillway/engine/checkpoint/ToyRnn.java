package io.spillway.engine.checkpoint;

import io.spillway.engine.model.SpikeBlockCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small sparse recurrent model for schedule tests, independent of the engine's LIF: state h (n floats)
 * plus the ids of "active" units (h > 0.5); h' = tanh(W_in[x_t] + sum over active ids of W[id] + 0.9 h);
 * loss_t = 0.5 |h'|^2. It records the order of backward steps and every state it computes, so tests can
 * check step counts and recompute fidelity.
 */
final class ToyRnn implements RecurrentModel<ToyRnn.State, ToyRnn.Tape> {
    record State(float[] h, int[] active) {
    }

    record Tape(int t, State before, State after) {
    }

    final int n;
    final int steps;
    final float[] w;
    final float[] win;
    final int[] inputs;
    final double[] grad;
    final List<Integer> backwardOrder = new ArrayList<>();
    final List<float[]> firstPass = new ArrayList<>();
    int recomputeMismatches;
    /** Activity threshold on h: lower means denser spikes (P8 sweeps it). */
    float threshold = 0.5f;
    /**
     * Declared device bytes per state and per tape (0: the real sizes), for the byte tables of
     * docs/spec-double-checkpointing.md §7.
     */
    long declaredStateBytes;
    long declaredTapeBytes;
    /** Stores h as fp16 in checkpoint records: a deliberately lossy codec that P2/P3 checks must catch. */
    boolean lossyHalfPrecision;
    private final SpikeBlockCodec spikes;
    private double[] adjoint;

    ToyRnn(final int n, final int steps, final long seed) {
        this.n = n;
        this.spikes = new SpikeBlockCodec(n);
        this.steps = steps;
        final SplittableRandom r = new SplittableRandom(seed);
        w = new float[n * n];
        win = new float[8 * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.3);
        }
        for (int i = 0; i < win.length; i++) {
            win[i] = (float) (r.nextGaussian() * 0.8);
        }
        inputs = r.ints(steps, 0, 8).toArray();
        grad = new double[w.length + win.length];
        for (int t = 0; t < steps; t++) {
            firstPass.add(null);
        }
    }

    State initial() {
        return new State(new float[n], new int[0]);
    }

    @Override
    public State step(final State s, final int t, final boolean record) {
        final State next = advance(s, t);
        if (record) {
            firstPass.set(t, next.h().clone());
        } else if (firstPass.get(t) != null && !java.util.Arrays.equals(firstPass.get(t), next.h())) {
            recomputeMismatches++;
        }
        return next;
    }

    @Override
    public Taped<State, Tape> stepWithTape(final State s, final int t) {
        final State next = advance(s, t);
        if (firstPass.get(t) == null) {
            firstPass.set(t, next.h().clone());
        } else if (!java.util.Arrays.equals(firstPass.get(t), next.h())) {
            recomputeMismatches++;
        }
        return new Taped<>(next, new Tape(t, s, next));
    }

    private State advance(final State s, final int t) {
        final float[] h = new float[n];
        final int x = inputs[t];
        int count = 0;
        final int[] active = new int[n];
        for (int i = 0; i < n; i++) {
            float a = win[x * n + i];
            for (final int j : s.active()) {
                a = a + w[j * n + i];
            }
            a = a + 0.9f * s.h()[i];
            h[i] = (float) Math.tanh(a);
        }
        for (int i = 0; i < n; i++) {
            if (h[i] > threshold) {
                active[count++] = i;
            }
        }
        return new State(h, java.util.Arrays.copyOf(active, count));
    }

    @Override
    public Backward<Tape> beginBackward() {
        java.util.Arrays.fill(grad, 0);
        backwardOrder.clear();
        adjoint = new double[n];
        return tape -> {
            if (!backwardOrder.isEmpty() && backwardOrder.get(backwardOrder.size() - 1) != tape.t() + 1) {
                throw new IllegalStateException("backward out of order: " + tape.t() + " after " + backwardOrder);
            }
            backwardOrder.add(tape.t());
            final float[] h = tape.after().h();
            final double[] da = new double[n];
            for (int i = 0; i < n; i++) {
                final double dh = adjoint[i] + h[i]; // loss 0.5 |h|^2 injected here, from the tape
                da[i] = dh * (1 - h[i] * (double) h[i]);
            }
            final double[] prev = new double[n];
            final int x = inputs[tape.t()];
            for (int i = 0; i < n; i++) {
                grad[w.length + x * n + i] += da[i];
                prev[i] += 0.9 * da[i];
            }
            for (final int j : tape.before().active()) {
                for (int i = 0; i < n; i++) {
                    grad[j * n + i] += da[i];
                }
            }
            adjoint = prev;
        };
    }

    @Override
    public StateCodec<State> codec() {
        return new StateCodec<>() {
            @Override
            public int maxEncodedBytes() {
                return 4 + 4 * n + spikes.maxBlockBytes();
            }

            @Override
            public int encode(final State s, final ByteBuffer out) {
                final int start = out.position();
                out.putInt(n);
                for (final float v : s.h()) {
                    out.putFloat(lossyHalfPrecision ? Float.float16ToFloat(Float.floatToFloat16(v)) : v);
                }
                spikes.encode(s.active(), s.active().length, out);
                return out.position() - start;
            }

            @Override
            public State decode(final ByteBuffer in) {
                final int size = in.getInt();
                final float[] h = new float[size];
                for (int i = 0; i < size; i++) {
                    h[i] = in.getFloat();
                }
                return new State(h, spikes.decode(in));
            }
        };
    }

    @Override
    public long stateBytes(final State s) {
        return declaredStateBytes > 0 ? declaredStateBytes : 4L * s.h().length + 4L * s.active().length;
    }

    @Override
    public long tapeBytes(final Tape tape) {
        return declaredTapeBytes > 0 ? declaredTapeBytes : 4L * n + 4L * tape.before().active().length;
    }
}
