package io.spillway.engine.model.lif;

/**
 * What the backward pass of step {@code t} needs: the pre-reset potentials {@code V_t} (and adaptation
 * {@code a_t} with an adaptive threshold), the spikes of
 * {@code t-1} (reset mask and recurrent input) and of {@code t} (the next layer's input). The inputs of the
 * step are re-read from the window by {@code t}. The arrays are shared with the states (immutable).
 */
public final class LifTape {
    final int step;
    final float[] v;
    final float[] a;
    final int[][] previousSpikes;
    final int[][] spikes;

    LifTape(final int step, final float[] v, final float[] a, final int[][] previousSpikes, final int[][] spikes) {
        this.step = step;
        this.v = v;
        this.a = a;
        this.previousSpikes = previousSpikes;
        this.spikes = spikes;
    }

    /** Index of the step this tape belongs to. */
    public int step() {
        return step;
    }

    /** Heap bytes held: potentials and both spike-id lists. */
    public long bytes() {
        long b = 4L * v.length + 4L * a.length;
        for (final int[] s : previousSpikes) {
            b += 4L * s.length;
        }
        for (final int[] s : spikes) {
            b += 4L * s.length;
        }
        return b;
    }
}
