package io.spillway.engine.model.egru;

import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.SplitMix64;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * All trainable tensors of the EGRU in one flat fp32 vector, in a stable order. Per layer {@code l}:
 * {@code layer<l>.w_in} ({@code inputs x 3H}, row = fan-out of one input or of one unit of layer l-1),
 * {@code layer<l>.w_rec} ({@code H x 3H}, row = fan-out of one unit), {@code layer<l>.bias_in} and
 * {@code layer<l>.bias_rec} ({@code 3H} each) and {@code layer<l>.threshold} ({@code H}); then {@code readout.w}
 * ({@code vocab x layers*H}, over the concatenated layers) and {@code readout.bias}. Gate blocks inside every
 * {@code 3H} row are ordered update | reset | candidate (the EvNN/Haste order; PyTorch's {@code nn.GRU} orders
 * reset | update | new). A view of a vector the learner owns; not thread-safe.
 */
public final class EgruParameters {
    private final EgruSettings settings;
    private final List<ParameterTensor> tensors;
    private final float[] values;
    private final int[] wIn;
    private final int[] wRec;
    private final int[] biasIn;
    private final int[] biasRec;
    private final int[] threshold;
    private final int readoutW;
    private final int readoutBias;

    /** A zero vector with this layout. */
    public EgruParameters(final EgruSettings settings) {
        this(settings, null);
    }

    /**
     * A view of {@code values} (not copied); null allocates a zero vector.
     *
     * @throws IllegalArgumentException if {@code values} has another length than the layout
     */
    public EgruParameters(final EgruSettings settings, final float[] values) {
        this.settings = settings;
        final int n = settings.hiddenSize();
        final int layers = settings.layers();
        final List<ParameterTensor> list = new ArrayList<>();
        wIn = new int[layers];
        wRec = new int[layers];
        biasIn = new int[layers];
        biasRec = new int[layers];
        threshold = new int[layers];
        int off = 0;
        for (int l = 0; l < layers; l++) {
            final int in = l == 0 ? settings.inputDimension() : n;
            wIn[l] = off;
            off = add(list, "layer" + l + ".w_in", off, in, 3 * n);
            wRec[l] = off;
            off = add(list, "layer" + l + ".w_rec", off, n, 3 * n);
            biasIn[l] = off;
            off = add(list, "layer" + l + ".bias_in", off, 1, 3 * n);
            biasRec[l] = off;
            off = add(list, "layer" + l + ".bias_rec", off, 1, 3 * n);
            threshold[l] = off;
            off = add(list, "layer" + l + ".threshold", off, 1, n);
        }
        readoutW = off;
        off = add(list, "readout.w", off, settings.vocabularySize(), layers * n);
        readoutBias = off;
        off = add(list, "readout.bias", off, 1, settings.vocabularySize());
        tensors = Collections.unmodifiableList(list);
        if (values != null && values.length != off) {
            throw new IllegalArgumentException("parameter vector has " + values.length + " entries, the layout " + off);
        }
        this.values = values != null ? values : new float[off];
    }

    private static int add(final List<ParameterTensor> list, final String name, final int off, final int rows,
                           final int cols) {
        final int size = Math.multiplyExact(rows, cols);
        list.add(new ParameterTensor(name, off, size, rows, cols));
        return Math.addExact(off, size);
    }

    /**
     * Fills the weights from {@code seed} as EvNN does: {@code w_in}, {@code w_rec} and the readout Xavier-normal
     * ({@code std = sqrt(2 / (fan_in + fan_out))}, a gate block of 3 counted as one fan-out of H), thresholds from
     * {@code Beta(3m/(1-m), 3)} (mean m), biases 0 except the candidate gate's input bias, set to the configured
     * candidate bias so that cell states start mostly below threshold.
     */
    public void initialise(final long seed) {
        final SplitMix64 rng = new SplitMix64(seed);
        final int n = settings.hiddenSize();
        for (final ParameterTensor t : tensors) {
            final String name = t.name();
            if (name.endsWith(".threshold")) {
                final double m = settings.thresholdMean();
                for (int i = 0; i < t.size(); i++) {
                    values[t.offset() + i] = (float) RandomDraws.beta(rng, 3 * m / (1 - m), 3);
                }
            } else if (name.endsWith("bias") || name.endsWith(".bias_in") || name.endsWith(".bias_rec")) {
                for (int i = 0; i < t.size(); i++) {
                    values[t.offset() + i] = name.endsWith(".bias_in") && i >= 2 * n ? settings.candidateBias() : 0f;
                }
            } else {
                final int fanOut = name.equals("readout.w") ? t.rows() : n;
                final int fanIn = name.equals("readout.w") ? t.cols() : t.rows();
                final double std = Math.sqrt(2.0 / (fanIn + fanOut));
                for (int i = 0; i < t.size(); i++) {
                    values[t.offset() + i] = (float) (std * RandomDraws.gaussian(rng));
                }
            }
        }
    }

    public EgruSettings settings() {
        return settings;
    }

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

    public int biasIn(final int layer) {
        return biasIn[layer];
    }

    public int biasRec(final int layer) {
        return biasRec[layer];
    }

    public int threshold(final int layer) {
        return threshold[layer];
    }

    public int readoutW() {
        return readoutW;
    }

    public int readoutBias() {
        return readoutBias;
    }
}
