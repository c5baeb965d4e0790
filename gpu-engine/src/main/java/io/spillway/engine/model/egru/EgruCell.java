package io.spillway.engine.model.egru;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.checkpoint.StateCodec;
import io.spillway.engine.model.Cell;
import io.spillway.engine.model.CellWindow;
import io.spillway.engine.model.ParameterTensor;
import io.spillway.engine.model.WindowInputs;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** The event-based GRU ({@link EgruWindow}) behind the learner's {@link Cell} seam. Immutable. */
public final class EgruCell implements Cell<EgruState> {
    /** The name snapshots and {@code --cell} use. */
    public static final String NAME = "egru";
    /** The width at which the learning rate applies to every parameter alike ({@link #learningRateScales}). */
    public static final int REFERENCE_WIDTH = 128;

    private final EgruSettings settings;
    private final EgruParameters layout;

    public EgruCell(final EgruSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.layout = new EgruParameters(settings);
    }

    public EgruSettings settings() {
        return settings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String describe() {
        return "egru(hidden=" + settings.hiddenSize() + "x" + settings.layers() + ", vocab="
                + settings.vocabularySize() + ", features=" + settings.featureDimension() + ", thresholdMean="
                + settings.thresholdMean() + ", kappa=" + settings.pseudoDerivativeScale() + ", activityTarget="
                + settings.activityTarget() + ", lambda=" + settings.activityRegularization() + ", candidateBias="
                + settings.candidateBias() + ", readout=" + settings.readout().name().toLowerCase(java.util.Locale.ROOT)
                + ", learnThresholds=" + settings.learnThresholds() + ", params=" + layout.size() + ")";
    }

    @Override
    public List<ParameterTensor> tensors() {
        return layout.tensors();
    }

    @Override
    public int parameterCount() {
        return layout.size();
    }

    @Override
    public void initialise(final float[] values, final long seed) {
        new EgruParameters(settings, values).initialise(seed);
    }

    @Override
    public EgruState zeroState() {
        return EgruState.zero(1, settings.layers(), settings.hiddenSize());
    }

    @Override
    public EgruState stack(final List<EgruState> parts) {
        return EgruState.stack(parts);
    }

    @Override
    public EgruState element(final EgruState state, final int b) {
        return state.element(b);
    }

    @Override
    public long stateBytes(final EgruState state) {
        return state.bytes();
    }

    @Override
    public StateCodec<EgruState> codec(final int batch) {
        return new EgruStateCodec(batch, settings.layers(), settings.hiddenSize());
    }

    /** Dense cell states plus event ids at every unit (a bound, whatever the activity). */
    @Override
    public long plannedStateBytes(final int batch) {
        return 8L * batch * settings.layers() * settings.hiddenSize();
    }

    /** Both states' event ids, the new cell states and the four gate arrays. */
    @Override
    public long plannedTapeBytes(final int batch) {
        return 28L * batch * settings.layers() * settings.hiddenSize();
    }

    @Override
    public CellWindow<EgruState, EgruTape> window(final ArrayBackend backend, final float[] values,
                                                   final WindowInputs inputs, final float[] gradient) {
        return new EgruWindow(backend, new EgruParameters(settings, values), inputs, gradient);
    }

    /** (vocab, features, hidden, layers, readout) as five ints. */
    @Override
    public void writeShape(final DataOutput out) throws IOException {
        for (final int v : shape()) {
            out.writeInt(v);
        }
    }

    @Override
    public void checkShape(final DataInput in) throws IOException {
        final int[] theirs = {in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt()};
        if (!Arrays.equals(theirs, shape())) {
            throw new io.spillway.engine.StateMismatchException("state is for EGRU shape " + Arrays.toString(theirs) + " (vocab, features, hidden, "
                    + "layers, readout 0=cell 1=events), this learner is " + Arrays.toString(shape()));
        }
    }

    private int[] shape() {
        return new int[] {settings.vocabularySize(), settings.featureDimension(), settings.hiddenSize(),
            settings.layers(), settings.readout().ordinal()};
    }

    /**
     * Per-tensor rates for Adam above the reference width, after muP (Yang et al., "Tensor Programs V", 2022): a matrix
     * whose inputs are hidden units (the recurrent weights, the input weights of layers above the first, the readout)
     * learns at the configured rate times {@code (REFERENCE_WIDTH / hidden)^(2/3)}, the first layer's input weights,
     * the biases and the thresholds at the rate times {@code (hidden / REFERENCE_WIDTH)^(1/3)}. The ratio of the two is
     * muP's {@code REFERENCE_WIDTH / hidden}: Adam moves every weight by about the rate per step, so a unit summing
     * {@code hidden} such weights would otherwise change {@code hidden} times as fast in a wider layer (with one rate
     * the EGRU at hidden 512 fell behind the one at 128 and its units fell silent). Where the pair sits was measured:
     * muP's own split (the matrices at {@code 128/hidden}, the rest at the rate) gave 2.804 and 2.879 bits/event at
     * hidden 1024 on linux-doc and perl-doc (200k events), this one 2.701 and 2.813, twice its rates 3.40; the best
     * base rate at hidden 512 was about 1.5 times the one at 128, as {@code 4^(1/3)} says. At or below the reference
     * width this is one rate (null), so those models train exactly as before.
     */
    @Override
    public float[] learningRateScales() {
        final int n = settings.hiddenSize();
        if (n <= REFERENCE_WIDTH) {
            return null;
        }
        final double widthRatio = (double) n / REFERENCE_WIDTH;
        final float matrix = (float) Math.pow(widthRatio, -2.0 / 3.0);
        final float[] scales = new float[layout.size()];
        java.util.Arrays.fill(scales, (float) Math.cbrt(widthRatio));
        for (final ParameterTensor t : layout.tensors()) {
            final String name = t.name();
            final boolean fromHidden = name.endsWith(".w_rec") || name.equals("readout.w")
                    || (name.endsWith(".w_in") && !name.equals("layer0.w_in"));
            if (fromHidden) {
                java.util.Arrays.fill(scales, t.offset(), t.offset() + t.size(), matrix);
            }
        }
        return scales;
    }

    /**
     * Learned thresholds stay in [0, 1] (a negative threshold would make the reset add to the cell state);
     * frozen ones are put back, whatever an optimizer's decay or momentum did to them.
     */
    @Override
    public void constrain(final float[] values, final float[] before) {
        for (int l = 0; l < settings.layers(); l++) {
            final int th = layout.threshold(l);
            for (int i = th; i < th + settings.hiddenSize(); i++) {
                values[i] = settings.learnThresholds() ? Math.min(1f, Math.max(0f, values[i])) : before[i];
            }
        }
    }
}
