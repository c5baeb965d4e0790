package io.spillway.engine.optim;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Adam (Kingma and Ba 2015) with bias correction; a baseline and the peer PyTorch users would pick. Optionally the
 * rate decays as {@code lr / sqrt(1 + t / decaySteps)} over the step count {@code t}: a stream never ends, and the
 * rate that learns fastest in the first thousand steps is several times the one that learns best over ten thousand
 * (the PyTorch GRU's best constant rate falls from 0.01 at 200k events to 0.003 at 2M), so a constant rate is tuned
 * for one stream length only.
 */
public final class Adam implements Optimizer {
    private final float learningRate;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    /** Steps over which the rate falls to 1/sqrt(2) of its start; 0: a constant rate. */
    private final double decaySteps;
    private float[] m;
    private float[] v;
    private long steps;
    /** What {@link #markStep} saved (allocated on first use), and whether a mark is set. */
    private float[] markedM;
    private float[] markedV;
    private long markedSteps;
    private boolean marked;
    /** Per-parameter multipliers of the rate; null: 1 everywhere. */
    private float[] rateScales;

    public Adam(final float learningRate) {
        this(learningRate, 0.9f, 0.999f, 1e-8f);
    }

    public Adam(final float learningRate, final float beta1, final float beta2, final float epsilon) {
        this(learningRate, beta1, beta2, epsilon, 0);
    }

    public Adam(final float learningRate, final float beta1, final float beta2, final float epsilon,
                final double decaySteps) {
        if (!(learningRate > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0)
                || !(decaySteps >= 0) || Double.isInfinite(decaySteps)) {
            throw new IllegalArgumentException("bad Adam settings: lr=" + learningRate + " beta1=" + beta1
                    + " beta2=" + beta2 + " eps=" + epsilon + " decay=" + decaySteps);
        }
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.decaySteps = decaySteps;
    }

    /** The rate of the step after {@code completedSteps} steps. */
    double rateAt(final long completedSteps) {
        return decaySteps == 0 ? learningRate : learningRate / Math.sqrt(1.0 + completedSteps / decaySteps);
    }

    @Override
    public void initialise(final int dimension) {
        if (rateScales != null && rateScales.length != dimension) {
            throw new IllegalArgumentException(rateScales.length + " rate scales for " + dimension + " parameters");
        }
        m = new float[dimension];
        v = new float[dimension];
        steps = 0;
        marked = false;
    }

    static void checkShapes(final int dimension, final float[] params, final float[] gradient) {
        if (dimension < 0) {
            throw new IllegalStateException("initialise(dimension) was not called");
        }
        if (params.length != dimension || gradient.length != dimension) {
            throw new IllegalArgumentException("expected " + dimension + " parameters and gradients, got "
                    + params.length + " and " + gradient.length);
        }
    }

    @Override
    public void step(final float[] params, final float[] gradient) {
        checkShapes(m == null ? -1 : m.length, params, gradient);
        steps++;
        final double c1 = 1.0 - Math.pow(beta1, steps);
        final double c2 = 1.0 - Math.pow(beta2, steps);
        final float stepSize = (float) (rateAt(steps - 1) * Math.sqrt(c2) / c1);
        final float[] scales = rateScales;
        for (int i = 0; i < params.length; i++) {
            final float g = gradient[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            final float rate = scales == null ? stepSize : stepSize * scales[i];
            params[i] -= rate * m[i] / ((float) Math.sqrt(v[i]) + epsilon);
        }
    }

    @Override
    public boolean markStep() {
        if (m == null) {
            return false;
        }
        if (markedM == null || markedM.length != m.length) {
            markedM = new float[m.length];
            markedV = new float[m.length];
        }
        System.arraycopy(m, 0, markedM, 0, m.length);
        System.arraycopy(v, 0, markedV, 0, v.length);
        markedSteps = steps;
        marked = true;
        return true;
    }

    @Override
    public void undoStep() {
        if (!marked || markedM.length != m.length) {
            throw new IllegalStateException("no step marked to undo");
        }
        System.arraycopy(markedM, 0, m, 0, m.length);
        System.arraycopy(markedV, 0, v, 0, v.length);
        steps = markedSteps;
        marked = false;
    }

    @Override
    public boolean scaleRates(final float[] perParameter) {
        if (perParameter == null) {
            rateScales = null;
            return true;
        }
        if (m != null && perParameter.length != m.length) {
            throw new IllegalArgumentException(perParameter.length + " rate scales for " + m.length + " parameters");
        }
        for (final float s : perParameter) {
            if (!(s > 0) || Float.isInfinite(s)) {
                throw new IllegalArgumentException("a rate scale must be positive and finite: " + s);
            }
        }
        rateScales = perParameter.clone();
        return true;
    }

    @Override
    public String describe() {
        final String scaled = rateScales == null ? "" : ", rates scaled per parameter";
        return decaySteps == 0 ? "adam(lr=" + learningRate + scaled + ")"
                : "adam(lr=" + learningRate + ", decay=" + formatSteps(decaySteps) + scaled + ")";
    }

    private static String formatSteps(final double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    @Override
    public long stateBytes() {
        return m == null ? 0 : 2L * m.length * Float.BYTES;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(m.length);
        out.writeLong(steps);
        for (int i = 0; i < m.length; i++) {
            out.writeFloat(m[i]);
            out.writeFloat(v[i]);
        }
    }

    @Override
    public void readState(final DataInput in) throws IOException {
        final int d = in.readInt();
        if (m == null || d != m.length) {
            throw new StateMismatchException("Adam state is for dimension " + d + ", this optimizer has "
                    + (m == null ? "none (not initialised)" : m.length));
        }
        marked = false;
        steps = StateChecks.readNonNegative(in, "Adam step count");
        for (int i = 0; i < d; i++) {
            m[i] = in.readFloat();
            v[i] = in.readFloat();
        }
        StateChecks.requireFinite(m, "Adam first moment");
        for (int i = 0; i < d; i++) {
            // +infinity is a state training reaches (a gradient whose square overflows fp32; the coordinate then
            // stops moving); NaN or a negative value is not, and its square root would turn the step into NaN
            if (!(v[i] >= 0)) {
                throw new InvalidStateException("Adam second moment[" + i + "] is negative or not a number: " + v[i]);
            }
        }
    }

    @Override
    public void reset() {
        if (m != null) {
            java.util.Arrays.fill(m, 0f);
            java.util.Arrays.fill(v, 0f);
        }
        steps = 0;
        marked = false;
    }

    @Override
    public Optimizer copy() {
        final Adam copy = new Adam(learningRate, beta1, beta2, epsilon, decaySteps);
        copy.rateScales = rateScales;
        return copy;
    }
}
