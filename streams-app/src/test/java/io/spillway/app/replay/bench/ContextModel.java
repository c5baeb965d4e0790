package io.spillway.app.replay.bench;

/**
 * The simplest strong peer a user could pick for next-event prediction: an adaptive order-k context model
 * (counts, no training) with Witten-Bell interpolation. Counts are shared by all keys; each key's own last
 * {@code maxOrder} events are its context ({@link History}).
 *
 * <p>The probability of symbol {@code s} after a history blends the orders from 0 up to the longest context
 * seen before: {@code P_-1(s) = 1/V} and, for each order {@code k} whose context {@code c} has been seen,
 * {@code P_k(s) = (n(c, s) + u(c) P_(k-1)(s)) / (N(c) + u(c))}, with {@code n(c, s)} the times {@code s}
 * followed {@code c}, {@code N(c)} their sum and {@code u(c)} the number of distinct symbols that followed
 * {@code c} (the escape weight). An unseen context leaves the lower order's distribution as it is. Every
 * {@code P_k} sums to 1 over the vocabulary, so the blend does too. {@link #update} counts the symbol after
 * each of its contexts (orders 0 to the history's length), then appends it to the history.
 *
 * <p>Not thread-safe.
 */
final class ContextModel {
    private final int vocabulary;
    private final int maxOrder;
    private final int symbolBits;
    private final LongIntCounts counts = new LongIntCounts();
    private final LongIntCounts totals = new LongIntCounts();
    private final LongIntCounts distinct = new LongIntCounts();

    /** A key's context: its last events, the newest in the low bits. */
    static final class History {
        private long packed;
        private int length;

        /** Events in the context, at most the model's order. */
        int length() {
            return length;
        }
    }

    /**
     * @param vocabulary symbols {@code 0..vocabulary-1}, at least 2
     * @param maxOrder longest context, at least 0; with the symbols' bits it must fit a 56-bit code
     */
    ContextModel(final int vocabulary, final int maxOrder) {
        if (vocabulary < 2 || maxOrder < 0) {
            throw new IllegalArgumentException("vocabulary >= 2 and maxOrder >= 0 needed: " + vocabulary + ", " + maxOrder);
        }
        this.vocabulary = vocabulary;
        this.maxOrder = maxOrder;
        this.symbolBits = 32 - Integer.numberOfLeadingZeros(vocabulary - 1);
        if ((maxOrder + 1) * symbolBits > 56) {
            throw new IllegalArgumentException("order " + maxOrder + " over " + vocabulary + " symbols does not fit 56 bits");
        }
    }

    int vocabulary() {
        return vocabulary;
    }

    int maxOrder() {
        return maxOrder;
    }

    /** Probability of {@code symbol} next after {@code history}, in (0, 1]. */
    double probability(final History history, final int symbol) {
        checkSymbol(symbol);
        double p = 1.0 / vocabulary;
        for (int k = 0; k <= history.length; k++) {
            final long context = context(history, k);
            final int n = totals.get(context);
            if (n == 0) {
                break; // a longer context ending in this one was never seen either
            }
            final int u = distinct.get(context);
            p = (counts.get(withSymbol(context, symbol)) + u * p) / (n + u);
        }
        return p;
    }

    /** The whole next-symbol distribution after {@code history} into {@code out} (length the vocabulary). */
    void distribution(final History history, final double[] out) {
        if (out.length != vocabulary) {
            throw new IllegalArgumentException("out has " + out.length + " entries for " + vocabulary + " symbols");
        }
        for (int s = 0; s < vocabulary; s++) {
            out[s] = probability(history, s);
        }
    }

    /** Counts {@code symbol} after each of the history's contexts, then appends it to the history. */
    void update(final History history, final int symbol) {
        checkSymbol(symbol);
        for (int k = 0; k <= history.length; k++) {
            final long context = context(history, k);
            totals.increment(context);
            if (counts.increment(withSymbol(context, symbol)) == 1) {
                distinct.increment(context);
            }
        }
        final long keep = (1L << (maxOrder * symbolBits)) - 1;
        history.packed = ((history.packed << symbolBits) | symbol) & keep;
        history.length = Math.min(maxOrder, history.length + 1);
    }

    /** Distinct (context, symbol) pairs counted so far. */
    int pairs() {
        return counts.size();
    }

    /** Code of the order-{@code k} context: its last {@code k} symbols, and {@code k + 1} in bits 56-59 (never 0). */
    private long context(final History h, final int k) {
        final long symbols = h.packed & ((1L << (k * symbolBits)) - 1);
        return ((long) (k + 1) << 56) | symbols;
    }

    private long withSymbol(final long context, final int symbol) {
        // the order stays in bits 56-59; the symbols move up by one symbol's width (they end below bit 56)
        final long order = context & (0xFL << 56);
        return order | ((context & ~(0xFL << 56)) << symbolBits) | symbol;
    }

    private void checkSymbol(final int symbol) {
        if (symbol < 0 || symbol >= vocabulary) {
            throw new IllegalArgumentException("symbol " + symbol + " outside [0, " + vocabulary + ")");
        }
    }
}
