package io.spillway.engine.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * All trainable tensors of the LIF network in one flat fp32 vector, in a stable order: per layer
 * {@code layer<l>.w_in} ({@code inputs x hidden}, row = fan-out of one input), {@code layer<l>.w_rec}
 * ({@code hidden x hidden}, row = fan-out of one neuron), {@code layer<l>.bias}; then {@code readout.w}
 * ({@code vocab x hidden}) and {@code readout.bias}. The layout is fixed by the settings; the values array
 * is owned and mutated by the learner (not thread-safe).
 */
public final class LifParameters {

    /** Name, offset and length of one tensor inside the flat vector. */
    public record Tensor(String name, int offset, int size, int rows, int cols) {
    }

    private final LifSettings settings;
    private final List<Tensor> tensors;
    private final float[] values;
    private final int[] wIn;
    private final int[] wRec;
    private final int[] bias;
    private final int readoutW;
    private final int readoutBias;

    public LifParameters(final LifSettings settings) {
        this.settings = settings;
        final int n = settings.hiddenSize();
        final List<Tensor> list = new ArrayList<>();
        final int layers = settings.layers();
        wIn = new int[layers];
        wRec = new int[layers];
        bias = new int[layers];
        int off = 0;
        for (int l = 0; l < layers; l++) {
            final int in = l == 0 ? settings.inputDimension() : n;
            wIn[l] = off;
            off = add(list, "layer" + l + ".w_in", off, in, n);
            wRec[l] = off;
            off = add(list, "layer" + l + ".w_rec", off, n, n);
            bias[l] = off;
            off = add(list, "layer" + l + ".bias", off, 1, n);
        }
        readoutW = off;
        off = add(list, "readout.w", off, settings.vocabularySize(), n);
        readoutBias = off;
        off = add(list, "readout.bias", off, 1, settings.vocabularySize());
        tensors = Collections.unmodifiableList(list);
        values = new float[off];
    }

    private static int add(final List<Tensor> list, final String name, final int off, final int rows, final int cols) {
        final int size = Math.multiplyExact(rows, cols);
        list.add(new Tensor(name, off, size, rows, cols));
        return Math.addExact(off, size);
    }

    /**
     * Fills the weights from {@code seed}: uniform in {@code +-sqrt(6 / fan_in)} for {@code w_in} of hidden
     * layers, a smaller {@code +-sqrt(3 / hidden)} for {@code w_rec} so the untrained network does not
     * saturate, {@code +-1} for layer 0's input rows (a one-hot input has fan-in 1), a tenth of
     * {@code +-sqrt(6 / hidden)} for the readout (membranes range over about +-10, so a full-size readout
     * starts far above the uniform loss), biases 0.
     */
    public void initialise(final long seed) {
        final SplitMix64 rng = new SplitMix64(seed);
        final int n = settings.hiddenSize();
        for (final Tensor t : tensors) {
            final float a;
            if (t.name().endsWith("bias")) {
                a = 0f;
            } else if (t.name().equals("layer0.w_in")) {
                a = 1f;
            } else if (t.name().endsWith("w_rec")) {
                a = (float) Math.sqrt(3.0 / n);
            } else if (t.name().equals("readout.w")) {
                a = (float) (0.1 * Math.sqrt(6.0 / n));
            } else {
                a = (float) Math.sqrt(6.0 / t.cols());
            }
            for (int i = 0; i < t.size(); i++) {
                values[t.offset() + i] = a == 0f ? 0f : (float) ((2 * rng.nextDouble() - 1) * a);
            }
        }
    }

    public LifSettings settings() {
        return settings;
    }

    /** Tensors in their stable order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** The live flat vector (not a copy). */
    public float[] values() {
        return values;
    }

    public int size() {
        return values.length;
    }

    public int wIn(final int layer) {
        return wIn[layer];
    }

    public int wRec(final int layer) {
        return wRec[layer];
    }

    public int bias(final int layer) {
        return bias[layer];
    }

    public int readoutW() {
        return readoutW;
    }

    public int readoutBias() {
        return readoutBias;
    }

    /** Tensor by name, or null. */
    public Tensor tensor(final String name) {
        for (final Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
