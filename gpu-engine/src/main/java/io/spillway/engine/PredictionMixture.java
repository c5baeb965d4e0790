package io.spillway.engine;

import io.spillway.engine.internals.SpikingLearner;
import io.spillway.engine.mixture.ContextMixture;
import io.spillway.engine.mixture.ContextModel;
import java.util.Objects;
import java.util.Optional;

/**
 * The learner's prediction mixture for scoring outside the learner (serving): the network's next-event distribution
 * mixed with an adaptive context model's, as a learner mixes the predictions it publishes ({@link ContextMixture}).
 * It keeps learning from the events it is shown (the counts, shared across keys, and the mixing weights), so the
 * predictions served adapt to the stream between the trainer's snapshots, as the trainer's own do.
 *
 * <p>A key's context (its last few events, as the counts read them) is a {@code long} the caller keeps per key,
 * starting from {@link #EMPTY}. Per event: {@link #learn} with the network's distribution from before the event,
 * then {@link #distribution} with the network's after it.
 *
 * <p>Threading: thread-safe; each call holds one lock for one context lookup.
 */
public final class PredictionMixture {
    /** The context of a key with no events. */
    public static final long EMPTY = ContextModel.EMPTY_HISTORY;

    private final ContextMixture mixture;
    private final ContextMixture.Outcome outcome = new ContextMixture.Outcome();
    private final int vocabulary;

    private PredictionMixture(final ContextMixture mixture) {
        this.mixture = mixture;
        this.vocabulary = mixture.model().vocabulary();
    }

    /**
     * A fresh mixture with {@code config}'s settings ({@link LearnerConfig#mixture()}); empty when a learner of that
     * configuration publishes the network's predictions alone (mixture {@code none}, or a vocabulary it does not
     * run for).
     */
    public static Optional<PredictionMixture> create(final LearnerConfig config) {
        return Optional.ofNullable(SpikingLearner.newMixture(Objects.requireNonNull(config, "config")))
                .map(PredictionMixture::new);
    }

    /**
     * A copy of {@code learner}'s mixture as it stands (e.g. one restored from a snapshot): what the trainer had
     * counted, learning on from there without touching the learner's ({@link Learner#predictionMixture}). Empty as
     * for {@link #create}.
     */
    public static Optional<PredictionMixture> of(final Learner learner) {
        return Objects.requireNonNull(learner, "learner").predictionMixture();
    }

    /** Scoring over {@code mixture}, which the caller gives up (for {@link Learner} implementations). */
    public static PredictionMixture over(final ContextMixture mixture) {
        return new PredictionMixture(Objects.requireNonNull(mixture, "mixture"));
    }

    /**
     * Learns from a key's next event: the mixing weights step on it when {@code before}, the network's distribution
     * that predicted it, is given (null for a key's first event, which nothing predicted); the counts count it
     * either way.
     *
     * @param context the key's context before the event
     * @return the key's context after it
     * @throws IllegalArgumentException for an event type outside the vocabulary or a distribution of another length
     */
    public synchronized long learn(final long context, final float[] before, final int event) {
        checkEvent(event);
        final long after;
        if (before == null) {
            after = mixture.observe(context, event);
        } else {
            checkLength(before);
            after = mixture.mix(context, before, event, outcome);
        }
        mixture.model().rescale(); // no steps here: a busy context is halved as soon as it is full
        return after;
    }

    /**
     * The mixture's next-event distribution for a key whose context is {@code context} and whose network predicts
     * {@code network}. Learns nothing.
     */
    public Inference.Distribution distribution(final long context, final Inference.Distribution network) {
        checkLength(network.probabilities());
        final float[] out = new float[vocabulary];
        final int arg;
        synchronized (this) {
            arg = mixture.distribution(context, network.probabilities(), out);
        }
        return new Inference.Distribution(arg, out);
    }

    /** {@code context} with {@code event} appended, nothing counted (for a look ahead that changes no state). */
    public long advance(final long context, final int event) {
        checkEvent(event);
        return mixture.model().history(context, event); // reads only the model's shape: no lock needed
    }

    /** (Context, event type) pairs counted, up to the bound of the mixture's settings. */
    public synchronized int pairs() {
        return mixture.model().pairs();
    }

    /** Heap bytes, the count tables mostly. */
    public synchronized long bytes() {
        return mixture.bytes();
    }

    private void checkEvent(final int event) {
        if (event < 0 || event >= vocabulary) {
            throw new IllegalArgumentException("event type " + event + " outside [0, " + vocabulary + ")");
        }
    }

    private void checkLength(final float[] p) {
        if (p.length != vocabulary) {
            throw new IllegalArgumentException("a distribution over " + p.length + " event types, the mixture's has "
                    + vocabulary);
        }
    }
}
