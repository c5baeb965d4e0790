package io.spillway.engine.model.lif;

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

/** The LIF spiking cell ({@link LifWindow}) behind the learner's {@link Cell} seam. Immutable. */
public final class LifCell implements Cell<LifState> {
    /** The name snapshots and {@code --cell} use. */
    public static final String NAME = "lif";

    private final LifSettings settings;
    private final LifParameters layout;

    public LifCell(final LifSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.layout = new LifParameters(settings);
    }

    public LifSettings settings() {
        return settings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String describe() {
        return "spiking-lif(hidden=" + settings.hiddenSize() + "x" + settings.layers() + ", vocab="
                + settings.vocabularySize() + ", features=" + settings.featureDimension() + ", alpha="
                + settings.alpha() + ", gain=" + settings.gain() + ", beta=" + settings.beta() + ", theta2="
                + settings.theta2() + ", adaptation=" + settings.adaptation() + ", params=" + layout.size() + ")";
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
        new LifParameters(settings, values).initialise(seed);
    }

    @Override
    public LifState zeroState() {
        return LifState.zero(1, settings.layers(), settings.hiddenSize(), settings.adaptive());
    }

    @Override
    public LifState stack(final List<LifState> parts) {
        return LifState.stack(parts);
    }

    @Override
    public LifState element(final LifState state, final int b) {
        return state.element(b);
    }

    @Override
    public long stateBytes(final LifState state) {
        return state.bytes();
    }

    @Override
    public StateCodec<LifState> codec(final int batch) {
        return new LifStateCodec(batch, settings.layers(), settings.hiddenSize(), settings.adaptive());
    }

    /** Dense potentials (and adaptation) plus spike lists at half of the neurons. */
    @Override
    public long plannedStateBytes(final int batch) {
        return denseBytes(batch) + spikeBound(batch);
    }

    /** A tape holds two spike lists. */
    @Override
    public long plannedTapeBytes(final int batch) {
        return denseBytes(batch) + 2 * spikeBound(batch);
    }

    private long denseBytes(final int batch) {
        return (settings.adaptive() ? 8L : 4L) * batch * settings.layers() * settings.hiddenSize();
    }

    private long spikeBound(final int batch) {
        return 4L * ((long) batch * settings.layers() * settings.hiddenSize() + 1) / 2;
    }

    @Override
    public CellWindow<LifState, LifTape> window(final ArrayBackend backend, final float[] values,
                                                 final WindowInputs inputs, final float[] gradient) {
        return new LifWindow(backend, new LifParameters(settings, values), inputs, gradient);
    }

    /** The format before the cell seam: (vocab, features, hidden, layers, adaptive) as five ints. */
    @Override
    public void writeShape(final DataOutput out) throws IOException {
        for (final int v : shape()) {
            out.writeInt(v);
        }
    }

    /** A potential made infinite by an input that saturates a neuron cannot go on: that key restarts. */
    @Override
    public boolean canContinue(final LifState state) {
        return state.isFinite();
    }

    @Override
    public void checkShape(final DataInput in) throws IOException {
        final int[] theirs = {in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt()};
        if (!Arrays.equals(theirs, shape())) {
            throw new io.spillway.engine.StateMismatchException("state is for LIF shape " + Arrays.toString(theirs) + " (vocab, features, hidden, "
                    + "layers, adaptive), this learner is " + Arrays.toString(shape()));
        }
    }

    private int[] shape() {
        return new int[] {settings.vocabularySize(), settings.featureDimension(), settings.hiddenSize(),
            settings.layers(), settings.adaptive() ? 1 : 0};
    }
}
