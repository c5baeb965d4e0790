package io.spillway.engine.model.lif;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Carried state of the LIF network for a batch: membrane potentials {@code V_t} (pre-reset, fp32) of every
 * layer and batch element, the ids of the neurons that spiked at {@code t} (the next step resets them), and
 * with an adaptive threshold the adaptation variables {@code a_t}.
 * Layout: population {@code p = layer * batch + b}; its potentials sit at {@code v[p * hidden ..]}, its
 * adaptation at {@code a[p * hidden ..]} (an empty array without adaptation) and its spike ids, strictly
 * increasing, in {@code spikes[p]}.
 *
 * <p>Immutable by contract: the arrays are never written after construction (they are shared with tapes
 * and later states), which is what lets a checkpoint schedule keep a state as a checkpoint.
 */
public final class LifState {
    private static final int[] NONE = new int[0];

    private final int batch;
    private final int layers;
    private final int hidden;
    private static final float[] NO_ADAPTATION = new float[0];

    private final float[] v;
    private final float[] a;
    private final int[][] spikes;

    /** A state without adaptation. Takes ownership of the arrays; the caller must not modify them afterwards. */
    public LifState(final int batch, final int layers, final int hidden, final float[] v, final int[][] spikes) {
        this(batch, layers, hidden, v, NO_ADAPTATION, spikes);
    }

    /**
     * Takes ownership of the arrays; the caller must not modify them afterwards.
     *
     * @param a adaptation variables, same length as {@code v}, or empty without adaptation
     */
    public LifState(final int batch, final int layers, final int hidden, final float[] v, final float[] a,
                    final int[][] spikes) {
        if (v.length != batch * layers * hidden || spikes.length != batch * layers
                || (a.length != 0 && a.length != v.length)) {
            throw new IllegalArgumentException("state arrays do not match batch=" + batch + " layers=" + layers
                    + " hidden=" + hidden);
        }
        this.batch = batch;
        this.layers = layers;
        this.hidden = hidden;
        this.v = v;
        this.a = a;
        this.spikes = spikes;
    }

    /** All potentials (and adaptation) 0, no spikes: the state of a key never seen. */
    public static LifState zero(final int batch, final int layers, final int hidden, final boolean adaptive) {
        final int[][] s = new int[batch * layers][];
        Arrays.fill(s, NONE);
        final int size = batch * layers * hidden;
        return new LifState(batch, layers, hidden, new float[size], adaptive ? new float[size] : NO_ADAPTATION, s);
    }

    /** Stacks single-element states (batch 1 each) into one batch state, in list order. */
    public static LifState stack(final List<LifState> parts) {
        final LifState first = parts.getFirst();
        final int b = parts.size();
        final int layers = first.layers;
        final int n = first.hidden;
        final boolean adaptive = first.adaptive();
        final float[] v = new float[b * layers * n];
        final float[] a = adaptive ? new float[v.length] : NO_ADAPTATION;
        final int[][] s = new int[b * layers][];
        for (int i = 0; i < b; i++) {
            final LifState p = Objects.requireNonNull(parts.get(i));
            if (p.batch != 1 || p.layers != layers || p.hidden != n || p.adaptive() != adaptive) {
                throw new IllegalArgumentException("stack needs batch-1 states of one shape");
            }
            for (int l = 0; l < layers; l++) {
                System.arraycopy(p.v, l * n, v, (l * b + i) * n, n);
                if (adaptive) {
                    System.arraycopy(p.a, l * n, a, (l * b + i) * n, n);
                }
                s[l * b + i] = p.spikes[l];
            }
        }
        return new LifState(b, layers, n, v, a, s);
    }

    /** The batch-1 state of element {@code b}. */
    public LifState element(final int b) {
        Objects.checkIndex(b, batch);
        final float[] ev = new float[layers * hidden];
        final float[] ea = adaptive() ? new float[ev.length] : NO_ADAPTATION;
        final int[][] es = new int[layers][];
        for (int l = 0; l < layers; l++) {
            System.arraycopy(v, (l * batch + b) * hidden, ev, l * hidden, hidden);
            if (adaptive()) {
                System.arraycopy(a, (l * batch + b) * hidden, ea, l * hidden, hidden);
            }
            es[l] = spikes[l * batch + b];
        }
        return new LifState(1, layers, hidden, ev, ea, es);
    }

    public int batch() {
        return batch;
    }

    public int layers() {
        return layers;
    }

    public int hidden() {
        return hidden;
    }

    /** Potential of neuron {@code i} of {@code (layer, b)}. */
    public float potential(final int layer, final int b, final int i) {
        return v[(layer * batch + b) * hidden + i];
    }

    /** Whether the state carries adaptation variables. */
    public boolean adaptive() {
        return a.length != 0;
    }

    /** Adaptation variable of neuron {@code i} of {@code (layer, b)}; 0 without adaptation. */
    public float adaptation(final int layer, final int b, final int i) {
        return a.length == 0 ? 0f : a[(layer * batch + b) * hidden + i];
    }

    /** Copy of the spike ids of {@code (layer, b)}. */
    public int[] spikeIds(final int layer, final int b) {
        return spikes[layer * batch + b].clone();
    }

    /** Total spikes over all populations. */
    public int spikeCount() {
        int c = 0;
        for (final int[] s : spikes) {
            c += s.length;
        }
        return c;
    }

    // package-private raw access for the model and the codec; never written through
    float[] rawV() {
        return v;
    }

    float[] rawA() {
        return a;
    }

    int[][] rawSpikes() {
        return spikes;
    }

    /** Heap bytes of the potentials and the spike ids. */
    public long bytes() {
        return 4L * v.length + 4L * a.length + 4L * spikeCount();
    }

    /** Whether every potential and adaptation variable is finite. */
    public boolean isFinite() {
        for (final float f : v) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        for (final float f : a) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    /** Bitwise equality of potentials and equal spike lists. */
    public boolean sameAs(final LifState o) {
        if (o == null || batch != o.batch || layers != o.layers || hidden != o.hidden || a.length != o.a.length) {
            return false;
        }
        for (int i = 0; i < v.length; i++) {
            if (Float.floatToRawIntBits(v[i]) != Float.floatToRawIntBits(o.v[i])) {
                return false;
            }
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(o.a[i])) {
                return false;
            }
        }
        for (int p = 0; p < spikes.length; p++) {
            if (!Arrays.equals(spikes[p], o.spikes[p])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "LifState[batch=" + batch + ", layers=" + layers + ", hidden=" + hidden + ", spikes=" + spikeCount()
                + "]";
    }
}
