package io.spillway.engine.model.lif;

import io.spillway.engine.backend.ArrayBackend;

/**
 * The two operations only a LIF population needs, kept out of the generic {@link ArrayBackend}: the leaky
 * integrate-and-fire update and its surrogate gradient. {@link #JAVA} is the reference (plain loops, fixed order);
 * a backend with its own LIF kernels implements this interface as well, and {@link #of} then hands out the
 * backend's.
 *
 * <p>Threading: {@link LifWindow} calls {@link #integrateAndFire} from its trainer thread and from the checkpoint
 * executor's recompute thread at the same time, so implementations must not share mutable state between calls.
 */
public interface LifKernels {

    /** The reference kernels: stateless, thread-safe, deterministic. */
    LifKernels JAVA = new JavaLifKernels();

    /** The backend's own LIF kernels when it has them, else {@link #JAVA}. */
    static LifKernels of(final ArrayBackend backend) {
        return backend instanceof LifKernels own ? own : JAVA;
    }

    /**
     * Leaky integrate with hard reset, for one neuron population of {@code n} neurons:
     * {@code v[i] = alpha * (reset(i) ? 0 : vPrev[i]) + drive * current[i]}, where {@code reset(i)} holds for
     * the neurons listed in {@code resetIds[0 .. resetCount)} (the previous spikes). Then writes the ids
     * with {@code v[i] > theta + shift[i]} in increasing order into {@code spikesOut} and returns how many there
     * were; when {@code spikesOut} is too small the count is still returned and the caller must grow and retry
     * (never a silent drop).
     *
     * @param shift per-neuron threshold shift (adaptive threshold), or null for none
     */
    int integrateAndFire(float[] vPrev, int vPrevOffset, int[] resetIds, int resetCount, float[] current,
                         int currentOffset, float alpha, float drive, float[] v, int vOffset, int n,
                         float theta, float[] shift, int shiftOffset, int[] spikesOut);

    /**
     * Surrogate-gradient chain rule for one population, with {@code u = v[i] - shift[i]}:
     * {@code dv[i] += ds[i] * (u > theta2 ? 1 / (beta * |u - theta| + 1)^2 : 0)}.
     *
     * @param shift per-neuron threshold shift (adaptive threshold), or null for none
     */
    void surrogateBackward(float[] v, int vOffset, float[] shift, int shiftOffset, float[] ds, int dsOffset,
                           float theta, float beta, float theta2, float[] dv, int dvOffset, int n);
}
