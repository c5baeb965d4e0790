package io.spillway.engine.mixture;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The learner's published next-event distribution: the network's mixed with an adaptive context model's
 * ({@link ContextModel}), as online compressors mix their experts. For a target with network distribution
 * {@code r} and context-model distribution {@code c} the mixture is {@code m = w r + (1 - w) c}, with
 * {@code w = sigmoid(theta_j)}: one weight per bucket {@code j} of the network's confidence (its arg-max
 * probability, in fifths) and the longest context the model has seen (none, order 0, ..., order k). After each
 * target the bucket's weight takes one gradient step on the target's log-loss,
 * {@code theta_j += rate * w (1 - w) (r_y - c_y) / m_y}, and the context model counts the event.
 *
 * <p>Neither expert learns from the other: the network trains on its own loss exactly as without a mixture. What
 * the mixture adds is published: the predictions' class, probability and loss.
 *
 * <p>Steps: {@link #beginStep}, then targets in the learner's order, then {@link #rollbackStep} when the learner
 * rolled its step back (the counts and weights as they were), else nothing. Not thread-safe.
 */
public final class ContextMixture {
    private static final int STATE_MAGIC = 0x5350584D; // "SPXM"
    private static final int STATE_FORMAT = 1;
    private static final int CONFIDENCE_BUCKETS = 5;
    private final MixtureSpec spec;
    private final ContextModel model;
    private final double[] theta;
    private final double[] thetaAtStep;
    private final double[] context;

    /** Where {@link #mix} leaves the mixture's verdict on one target. */
    public static final class Outcome {
        private int predicted;
        private double probability;
        private double loss;

        /** The mixture's arg-max class (the lowest among equal probabilities). */
        public int predicted() {
            return predicted;
        }

        /** The mixture's probability of {@link #predicted}. */
        public double probability() {
            return probability;
        }

        /** The mixture's cross-entropy on the target, nats. */
        public double loss() {
            return loss;
        }
    }

    public ContextMixture(final MixtureSpec spec, final int vocabulary) {
        if (!spec.enabled()) {
            throw new IllegalArgumentException("mixture 'none' has no context model");
        }
        this.spec = spec;
        this.model = new ContextModel(vocabulary, spec.order(), spec.maxPairs());
        this.theta = new double[CONFIDENCE_BUCKETS * (spec.order() + 2)];
        this.thetaAtStep = new double[theta.length];
        this.context = new double[vocabulary];
    }

    public ContextModel model() {
        return model;
    }

    /** Starts a step (see the class comment). */
    public void beginStep() {
        model.beginStep();
        System.arraycopy(theta, 0, thetaAtStep, 0, theta.length);
    }

    /** Takes back the counts and weights of every target since {@link #beginStep}. */
    public void rollbackStep() {
        model.rollbackStep();
        System.arraycopy(thetaAtStep, 0, theta, 0, theta.length);
    }

    /**
     * Mixes one target, then learns from it: the bucket's weight steps, the context model counts {@code target}.
     *
     * @param history the key's events before the target ({@link ContextModel#history})
     * @param network the network's distribution over the event types (summing to 1)
     * @param target the event type that came
     * @param out receives the mixture's class, probability and loss
     * @return the key's history with the target appended
     */
    public long mix(final long history, final float[] network, final int target, final Outcome out) {
        final int bucket = bucket(model.distribution(history, context), network);
        final double w = 1 / (1 + Math.exp(-theta[bucket]));
        int arg = 0;
        double best = -1;
        for (int k = 0; k < network.length; k++) {
            final double m = w * network[k] + (1 - w) * context[k];
            if (m > best) {
                best = m;
                arg = k;
            }
        }
        final double r = network[target];
        final double c = context[target];
        final double m = w * r + (1 - w) * c; // > 0: the context model never gives 0
        out.predicted = arg;
        out.probability = best;
        out.loss = -Math.log(m);
        theta[bucket] += spec.rate() * w * (1 - w) * (r - c) / m;
        return model.update(history, target);
    }

    /**
     * The mixture's distribution after {@code history}, as {@link #mix} weighs it, without learning anything: for
     * predictions whose target is not known yet (serving).
     *
     * @param network the network's distribution over the event types (summing to 1)
     * @param out receives the mixture's probability of each event type
     * @return the mixture's arg-max class (the lowest among equal probabilities), as {@link Outcome#predicted}
     */
    public int distribution(final long history, final float[] network, final float[] out) {
        final int bucket = bucket(model.distribution(history, context), network);
        final double w = 1 / (1 + Math.exp(-theta[bucket]));
        int arg = 0;
        double best = -1;
        for (int k = 0; k < network.length; k++) {
            final double m = w * network[k] + (1 - w) * context[k];
            out[k] = (float) m;
            if (m > best) {
                best = m;
                arg = k;
            }
        }
        return arg;
    }

    /** The weight's bucket: the longest context seen ({@code -1}: none) and the network's arg-max probability. */
    private static int bucket(final int longest, final float[] network) {
        int networkArg = 0;
        for (int k = 1; k < network.length; k++) {
            networkArg = network[k] > network[networkArg] ? k : networkArg;
        }
        final int confidence = Math.min(CONFIDENCE_BUCKETS - 1, (int) (network[networkArg] * CONFIDENCE_BUCKETS));
        return (longest + 1) * CONFIDENCE_BUCKETS + confidence;
    }

    /** Counts an event without a prediction (a key's first, or one whose target was an explicit label). */
    public long observe(final long history, final int event) {
        return model.update(history, event);
    }

    /** Heap bytes: the count tables, mostly. */
    public long bytes() {
        return model.bytes() + 16L * theta.length + 8L * context.length;
    }

    /** The most bytes {@link #writeState} writes for this mixture's settings (with every pair counted). */
    public long maxStateBytes() {
        return 64L + 8L * theta.length + 12L * spec.maxPairs();
    }

    /** Magic, format, order, the weights, then the context model's counts ({@link ContextModel#writeState}). */
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(STATE_MAGIC);
        out.writeInt(STATE_FORMAT);
        out.writeInt(spec.order());
        out.writeInt(theta.length);
        for (final double t : theta) {
            out.writeLong(Double.doubleToRawLongBits(t));
        }
        model.writeState(out);
    }

    /**
     * Restores what {@link #writeState} wrote.
     *
     * @throws StateMismatchException if it was written for another order (the mixture's settings changed)
     * @throws InvalidStateException if it is damaged
     */
    public void readState(final DataInput in) throws IOException {
        if (in.readInt() != STATE_MAGIC) {
            throw new InvalidStateException("mixture state does not start with its magic number");
        }
        StateChecks.readExactly(in, STATE_FORMAT, "mixture state format");
        final int order = in.readInt();
        if (order != spec.order()) {
            throw new StateMismatchException("the mixture state is of a context model of order " + order
                    + ", this learner's is of order " + spec.order());
        }
        StateChecks.readExactly(in, theta.length, "mixture weight count");
        StateChecks.readFinite(in, theta, "mixture weight");
        model.readState(in);
        System.arraycopy(theta, 0, thetaAtStep, 0, theta.length);
    }
}
