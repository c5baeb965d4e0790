package io.spillway.engine.model.lif;

/**
 * Shape and neuron constants of the LIF spiking RNN (docs/spec-double-checkpointing.md §4.1).
 *
 * @param vocabularySize event types; the one-hot part of the input and the readout's classes
 * @param featureDimension sparse real features appended to the one-hot input (0: none)
 * @param hiddenSize neurons per recurrent layer
 * @param layers recurrent layers; layer l reads layer l-1's spikes of the same step
 * @param alpha membrane leak per step, in (0, 1)
 * @param gain input gain g; the drive is {@code (1 - alpha) * g}
 * @param theta firing threshold
 * @param beta surrogate sharpness: {@code dS/dV = 1 / (beta |V - theta| + 1)^2}
 * @param theta2 surrogate gate: the surrogate is 0 where {@code V <= theta2}; negative infinity disables it
 * @param spikeCapacity planned fraction of neurons that spike per step (sizes the spike-id buffers;
 *     exceeding it grows the buffer and is counted, never dropped)
 * @param adaptation adaptive-threshold strength gamma: the threshold is {@code theta + gamma * a_t} with
 *     {@code a_t = rho * a_{t-1} + S_{t-1}}; 0 disables adaptation (plain LIF, no {@code a} in the state)
 * @param adaptationDecay rho, the per-step decay of the adaptation variable, in [0, 1)
 */
public record LifSettings(int vocabularySize, int featureDimension, int hiddenSize, int layers, float alpha,
                          float gain, float theta, float beta, float theta2, float spikeCapacity, float adaptation,
                          float adaptationDecay) {

    public LifSettings {
        if (vocabularySize <= 0 || featureDimension < 0 || hiddenSize <= 0 || layers <= 0) {
            throw new IllegalArgumentException("bad shape: vocab=" + vocabularySize + " features=" + featureDimension
                    + " hidden=" + hiddenSize + " layers=" + layers);
        }
        if (!(alpha > 0 && alpha < 1) || !(gain > 0) || !Float.isFinite(theta) || !(beta > 0)
                || Float.isNaN(theta2) || !(spikeCapacity > 0 && spikeCapacity <= 1)) {
            throw new IllegalArgumentException("bad neuron constants: alpha=" + alpha + " gain=" + gain + " theta="
                    + theta + " beta=" + beta + " theta2=" + theta2 + " spikeCapacity=" + spikeCapacity);
        }
        if (!(adaptation >= 0) || Float.isInfinite(adaptation) || !(adaptationDecay >= 0 && adaptationDecay < 1)) {
            throw new IllegalArgumentException("bad adaptation: gamma=" + adaptation + " rho=" + adaptationDecay);
        }
    }

    /** Plain LIF (no adaptive threshold). */
    public LifSettings(final int vocabularySize, final int featureDimension, final int hiddenSize, final int layers,
                       final float alpha, final float gain, final float theta, final float beta, final float theta2,
                       final float spikeCapacity) {
        this(vocabularySize, featureDimension, hiddenSize, layers, alpha, gain, theta, beta, theta2, spikeCapacity,
                0f, 0.95f);
    }

    /** Same settings with an adaptive threshold of strength {@code gamma} and decay {@code rho}. */
    public LifSettings withAdaptation(final float gamma, final float rho) {
        return new LifSettings(vocabularySize, featureDimension, hiddenSize, layers, alpha, gain, theta, beta, theta2,
                spikeCapacity, gamma, rho);
    }

    /** Whether the threshold adapts (the state then carries the adaptation variable {@code a}). */
    public boolean adaptive() {
        return adaptation > 0;
    }

    /** Defaults of the spec's TF tests: alpha 0.9, gain 10, theta 1, beta 10, no theta2 gate, 10% capacity. */
    public static LifSettings of(final int vocabularySize, final int featureDimension, final int hiddenSize,
                                 final int layers) {
        return new LifSettings(vocabularySize, featureDimension, hiddenSize, layers, 0.9f, 10f, 1f, 10f,
                Float.NEGATIVE_INFINITY, 0.1f);
    }

    /** {@code (1 - alpha) * gain}: how strongly one step's input current moves the membrane. */
    public float drive() {
        return (1f - alpha) * gain;
    }

    /** Inputs of layer 0: one-hot event type followed by the sparse features. */
    public int inputDimension() {
        return vocabularySize + featureDimension;
    }

    /** Initial spike-id buffer length per population. */
    public int spikeBufferLength() {
        return Math.max(1, (int) Math.ceil(spikeCapacity * hiddenSize));
    }
}
