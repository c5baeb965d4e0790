package io.spillway.engine.optim;

import io.spillway.engine.StateMismatchException;
import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/** Plain stochastic gradient descent: {@code θ ← θ − η·g}. A baseline. */
public final class Sgd implements Optimizer {
    private final float learningRate;
    private long steps;
    private int dimension = -1;

    public Sgd(final float learningRate) {
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0: " + learningRate);
        }
        this.learningRate = learningRate;
    }

    @Override
    public void initialise(final int dimension) {
        this.dimension = dimension;
        this.steps = 0;
    }

    @Override
    public void step(final float[] params, final float[] gradient) {
        Adam.checkShapes(dimension, params, gradient);
        for (int i = 0; i < params.length; i++) {
            params[i] -= learningRate * gradient[i];
        }
        steps++;
    }

    @Override
    public String describe() {
        return "sgd(lr=" + learningRate + ")";
    }

    @Override
    public long stateBytes() {
        return 0;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(dimension);
        out.writeLong(steps);
    }

    @Override
    public void readState(final DataInput in) throws IOException {
        final int d = in.readInt();
        if (d != dimension) {
            throw new StateMismatchException("optimizer state is for dimension " + d + ", this optimizer has "
                    + dimension);
        }
        steps = StateChecks.readNonNegative(in, "SGD step count");
    }

    @Override
    public void reset() {
        steps = 0;
    }

    @Override
    public Optimizer copy() {
        return new Sgd(learningRate);
    }
}
