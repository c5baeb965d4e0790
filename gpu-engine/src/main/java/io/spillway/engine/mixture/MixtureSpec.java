package io.spillway.engine.mixture;

import java.util.Locale;

/**
 * What the learner's published predictions mix the network's with: {@code none}, or {@code context} with
 * optional settings, e.g. {@code context:order=6,pairs=2097152,rate=0.02}.
 *
 * @param enabled whether predictions mix in a context model at all
 * @param order the context model's longest context
 * @param maxPairs the most (context, event type) pairs it counts (its memory: about 40 bytes a pair at most)
 * @param rate learning rate of the mixing weights
 */
public record MixtureSpec(boolean enabled, int order, int maxPairs, double rate) {
    /** The learner's default: a context model of order 6 mixed in (cut to what the vocabulary's codes allow). */
    public static final String DEFAULT = "context";
    public static final int DEFAULT_ORDER = 6;
    public static final int DEFAULT_MAX_PAIRS = 1 << 21;
    public static final double DEFAULT_RATE = 0.02;

    /**
     * The largest vocabulary a learner mixes for: a target costs the mixture a pass over the vocabulary per order,
     * and a window keeps every target's whole network distribution, so above this the learner publishes the
     * network's predictions alone (and says so in its log).
     */
    public static final int MAX_VOCABULARY = 4096;

    /** The network's predictions alone. */
    public static final MixtureSpec NONE = new MixtureSpec(false, 0, 1, DEFAULT_RATE);

    public MixtureSpec {
        if (order < 0 || order > 15 || maxPairs < 1 || !(rate > 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("mixture order must be in [0, 15], pairs >= 1 and rate a positive"
                    + " number: order=" + order + ", pairs=" + maxPairs + ", rate=" + rate);
        }
    }

    /**
     * Reads a spec; refuses an unknown kind or setting, a malformed number, or an order too long for
     * {@code vocabulary} event types, naming what is wrong.
     */
    public static MixtureSpec parse(final String spec, final int vocabulary) {
        final String s = spec.strip().toLowerCase(Locale.ROOT);
        final int colon = s.indexOf(':');
        final String kind = colon < 0 ? s : s.substring(0, colon).strip();
        if (kind.equals("none")) {
            if (colon >= 0) {
                throw new IllegalArgumentException("mixture 'none' takes no settings: '" + spec + "'");
            }
            return NONE;
        }
        if (!kind.equals("context")) {
            throw new IllegalArgumentException("unknown mixture '" + spec + "': expected none, or context with"
                    + " optional settings, e.g. context:order=6,pairs=2097152,rate=0.02");
        }
        int order = Math.min(DEFAULT_ORDER, ContextModel.maxOrderFor(vocabulary));
        int pairs = DEFAULT_MAX_PAIRS;
        double rate = DEFAULT_RATE;
        if (colon >= 0) {
            for (final String part : s.substring(colon + 1).split(",")) {
                final int eq = part.indexOf('=');
                final String name = eq < 0 ? part.strip() : part.substring(0, eq).strip();
                final String value = eq < 0 ? "" : part.substring(eq + 1).strip();
                try {
                    switch (name) {
                        case "order" -> order = Integer.parseInt(value);
                        case "pairs" -> pairs = Integer.parseInt(value);
                        case "rate" -> rate = Double.parseDouble(value);
                        default -> throw new IllegalArgumentException("unknown mixture setting '" + name + "' in '"
                                + spec + "': expected order, pairs or rate");
                    }
                } catch (final NumberFormatException e) {
                    throw new IllegalArgumentException("mixture setting '" + name + "' is not a number: '" + value
                            + "' in '" + spec + "'");
                }
            }
        }
        if (vocabulary >= 2 && order > ContextModel.maxOrderFor(vocabulary)) {
            throw new IllegalArgumentException("mixture order " + order + " is too long for " + vocabulary
                    + " event types: at most " + ContextModel.maxOrderFor(vocabulary));
        }
        return new MixtureSpec(true, order, pairs, rate);
    }
}
