package io.spillway.engine.model.lif;

import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.SplitMix64;
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

    private final LifSettings settings;
    private final List<ParameterTensor> tensors;
    private final float[] values;
    private final int[] wIn;
    private final int[] wRec;
    private final int[] bias;
    private final int readoutW;
    private final int readoutBias;

    public LifParameters(final LifSettings settings) {
        this(settings, null);
    }

    /**
     * A view of {@code values} (not copied) with this settings' layout; null allocates a zero vector.
     *
     * @throws IllegalArgumentException if {@code values} has another length than the layout
     */
    public LifParameters(final LifSettings settings, final float[] values) {
        this.settings = settings;
        final int n = settings.hiddenSize();
        final List<ParameterTensor> list = new ArrayList<>();
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
        if (values != null && values.length != off) {
            throw new IllegalArgumentException("parameter vector has " + values.length + " entries, the layout " + off);
        }
        this.values = values != null ? values : new float[off];
    }

    private static int add(final List<ParameterTensor> list, final String name, final int off, final int rows, final int cols) {
        final int size = Math.multiplyExact(rows, cols);
        list.add(new ParameterTensor(name, off, size, rows, cols));
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
        for (final ParameterTensor t : tensors) {
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
    public List<ParameterTensor> tensors() {
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
    public ParameterTensor tensor(final String name) {
        for (final ParameterTensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
