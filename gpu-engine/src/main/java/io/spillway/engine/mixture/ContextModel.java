package io.spillway.engine.mixture;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.internals.StateChecks;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * An adaptive order-k context model of event types: counts, no training, Witten-Bell interpolation. Counts are
 * shared by all keys; each key's own last {@code maxOrder} events are its context, a {@link #history} the caller
 * keeps per key. It is the simplest strong next-event predictor a user could pick, and the learner's second
 * expert ({@link ContextMixture}).
 *
 * <p>The probability of symbol {@code s} after a history blends the orders from 0 up to the longest context
 * seen before: {@code P_-1(s) = 1/V} and, for each order {@code k} whose context {@code c} has been seen,
 * {@code P_k(s) = (n(c, s) + u(c) P_(k-1)(s)) / (N(c) + u(c))}, with {@code n(c, s)} the times {@code s}
 * followed {@code c}, {@code N(c)} their sum and {@code u(c)} the number of distinct symbols that followed
 * {@code c} (the escape weight). An unseen context leaves the lower order's distribution as it is. Every
 * {@code P_k} sums to 1 over the vocabulary, so the blend does too.
 *
 * <p>Bounded: at most {@code maxPairs} (context, symbol) pairs are ever counted; once that many are, a pair not
 * yet counted is not counted at its order (the pairs already counted go on counting), so every context's
 * {@code N} stays the sum of its pairs' counts and the blend stays normalised.
 *
 * <p>Steps: {@link #update}s between {@link #beginStep} and {@link #rollbackStep} are taken back (a learner step
 * that diverged leaves no trace); {@link #beginStep} again forgets what to take back. A model never stepped
 * journals nothing. Not thread-safe.
 */
public final class ContextModel {
    /** A history with no events. */
    public static final long EMPTY_HISTORY = 0L;
    private static final int STATE_MAGIC = 0x53504358; // "SPCX"
    private static final int STATE_FORMAT = 1;
    private static final long ORDER_BITS = 0xFL << 56;
    private final int vocabulary;
    private final int maxOrder;
    private final int maxPairs;
    private final int symbolBits;
    // Pairs and contexts live in arenas (ids never move, so a context can chain its pairs for the distribution to
    // visit only the event types that followed it); the hash tables map a code to its id + 1.
    private final LongIntCounts pairIds = new LongIntCounts();
    private final LongIntCounts contextIds = new LongIntCounts();
    private int[] pairCount = new int[1024];
    private int[] pairSymbol = new int[1024];
    private int[] pairContext = new int[1024];
    /** The next pair (id + 1, 0 for none) of the same context. */
    private int[] pairNext = new int[1024];
    private int pairsUsed;
    private int[] contextTotal = new int[256];
    private int[] contextDistinct = new int[256];
    /** The context's newest pair (id + 1, 0 for none). */
    private int[] contextHead = new int[256];
    private long[] contextCodes = new long[256];
    private int contextsUsed;
    private int[] journal = new int[256];
    private int journalLength;
    /** Pairs, contexts and refused updates when the step began: what a rollback gives back. */
    private int pairsAtStep;
    private int contextsAtStep;
    private long refusedAtStep;
    /** Whether updates are journaled: from the first {@link #beginStep} on (never, for a model without steps). */
    private boolean stepping;
    private long pairsRefused;
    /** Contexts whose total passed {@link #RESCALE_AT} in the current step, halved when the next one begins. */
    private int[] overfull = new int[8];
    private int overfullLength;
    /** A context's total at which its counts are halved by default, long before an int overflows. */
    static final int RESCALE_AT = 1 << 30;
    private final int rescaleAt;

    /**
     * @param vocabulary symbols {@code 0..vocabulary-1}, at least 2
     * @param maxOrder longest context, 0 to 15; with the symbols' bits it must fit a 56-bit code
     * @param maxPairs most (context, symbol) pairs counted, at least 1
     */
    public ContextModel(final int vocabulary, final int maxOrder, final int maxPairs) {
        this(vocabulary, maxOrder, maxPairs, RESCALE_AT);
    }

    /** As the public constructor, with the total at which a context is halved (tests use small ones). */
    ContextModel(final int vocabulary, final int maxOrder, final int maxPairs, final int rescaleAt) {
        this.rescaleAt = rescaleAt;
        if (vocabulary < 2 || maxOrder < 0 || maxOrder > 15 || maxPairs < 1) {
            throw new IllegalArgumentException("vocabulary >= 2, maxOrder in [0, 15] and maxPairs >= 1 needed: "
                    + vocabulary + ", " + maxOrder + ", " + maxPairs);
        }
        this.vocabulary = vocabulary;
        this.maxOrder = maxOrder;
        this.maxPairs = maxPairs;
        this.symbolBits = symbolBits(vocabulary);
        if ((maxOrder + 1) * symbolBits > 56) {
            throw new IllegalArgumentException("order " + maxOrder + " over " + vocabulary + " symbols does not fit 56"
                    + " bits: at most order " + (56 / symbolBits - 1));
        }
    }

    /** The longest order that fits the code for {@code vocabulary} symbols. */
    public static int maxOrderFor(final int vocabulary) {
        return Math.min(15, 56 / symbolBits(Math.max(2, vocabulary)) - 1);
    }

    /** Bits of one symbol in a history or context code. */
    private static int symbolBits(final int vocabulary) {
        return 32 - Integer.numberOfLeadingZeros(vocabulary - 1);
    }

    public int vocabulary() {
        return vocabulary;
    }

    public int maxOrder() {
        return maxOrder;
    }

    public int maxPairs() {
        return maxPairs;
    }

    /** {@code history} with {@code symbol} appended, its oldest event dropped beyond the model's order. */
    public long history(final long history, final int symbol) {
        checkSymbol(symbol);
        final long keep = (1L << (maxOrder * symbolBits)) - 1;
        final long symbols = ((history & ~ORDER_BITS) << symbolBits | symbol) & keep;
        return (long) Math.min(maxOrder, historyLength(history) + 1) << 56 | symbols;
    }

    /** Events in a history, at most the model's order. */
    public static int historyLength(final long history) {
        return (int) (history >>> 56) & 0xF;
    }

    /**
     * Whether {@code history} can be one of this model's: its length at most the order, nothing above its events'
     * bits, every event in the vocabulary (a check for histories read from outside).
     */
    public boolean validHistory(final long history) {
        final int n = historyLength(history);
        if (history >>> 60 != 0 || n > maxOrder) {
            return false;
        }
        return symbolsValid(history & ~ORDER_BITS, n);
    }

    /** Probability of {@code symbol} next after {@code history}, in (0, 1]; bitwise as {@link #distribution} gives it. */
    public double probability(final long history, final int symbol) {
        checkSymbol(symbol);
        double p = 1.0 / vocabulary;
        for (int k = 0; k <= historyLength(history); k++) {
            final long context = context(history, k);
            final int c = contextIds.get(context) - 1;
            if (c < 0 || contextTotal[c] == 0) {
                break; // a longer context ending in this one was never seen either
            }
            final double norm = 1.0 / (contextTotal[c] + contextDistinct[c]);
            final double scale = contextDistinct[c] * norm;
            final int pair = pairIds.get(withSymbol(context, symbol)) - 1;
            p = p * scale + (pair < 0 ? 0 : pairCount[pair]) * norm;
        }
        return p;
    }

    /**
     * The whole next-symbol distribution after {@code history} into {@code out} (length the vocabulary). Each order
     * visits only the event types that followed its context.
     *
     * @return the longest order whose context was seen, -1 when none was (the uniform distribution)
     */
    public int distribution(final long history, final double[] out) {
        if (out.length != vocabulary) {
            throw new IllegalArgumentException("out has " + out.length + " entries for " + vocabulary + " symbols");
        }
        java.util.Arrays.fill(out, 1.0 / vocabulary);
        int longest = -1;
        for (int k = 0; k <= historyLength(history); k++) {
            final int c = contextIds.get(context(history, k)) - 1;
            if (c < 0 || contextTotal[c] == 0) {
                break;
            }
            final double norm = 1.0 / (contextTotal[c] + contextDistinct[c]);
            final double scale = contextDistinct[c] * norm;
            for (int s = 0; s < vocabulary; s++) {
                out[s] *= scale;
            }
            for (int pair = contextHead[c] - 1; pair >= 0; pair = pairNext[pair] - 1) {
                out[pairSymbol[pair]] += pairCount[pair] * norm;
            }
            longest = k;
        }
        return longest;
    }

    /** Counts {@code symbol} after each of the history's contexts; returns the history with it appended. */
    public long update(final long history, final int symbol) {
        checkSymbol(symbol);
        for (int k = 0; k <= historyLength(history); k++) {
            final long context = context(history, k);
            final long code = withSymbol(context, symbol);
            int pair = pairIds.get(code) - 1;
            if (pair < 0) {
                if (pairsUsed >= maxPairs) {
                    pairsRefused++;
                    continue;
                }
                pair = newPair(contextId(context), code, symbol);
            }
            final int c = pairContext[pair];
            if (++contextTotal[c] == rescaleAt) {
                markOverfull(c);
            }
            if (++pairCount[pair] == 1) {
                contextDistinct[c]++;
            }
            if (stepping) {
                if (journalLength == journal.length) {
                    journal = java.util.Arrays.copyOf(journal, 2 * journal.length);
                }
                journal[journalLength++] = pair;
            }
        }
        return history(history, symbol);
    }

    /** The id of {@code context}, which gets one if it has none. */
    private int contextId(final long context) {
        final int c = contextIds.get(context) - 1;
        if (c >= 0) {
            return c;
        }
        if (contextsUsed == contextTotal.length) {
            final int n = 2 * contextTotal.length;
            contextTotal = java.util.Arrays.copyOf(contextTotal, n);
            contextDistinct = java.util.Arrays.copyOf(contextDistinct, n);
            contextHead = java.util.Arrays.copyOf(contextHead, n);
            contextCodes = java.util.Arrays.copyOf(contextCodes, n);
        }
        contextCodes[contextsUsed] = context;
        contextIds.add(context, contextsUsed + 1);
        return contextsUsed++;
    }

    /** A new pair of count 0, chained to its context. */
    private int newPair(final int context, final long code, final int symbol) {
        if (pairsUsed == pairCount.length) {
            final int n = (int) Math.min(2L * pairCount.length, Math.max(maxPairs, pairCount.length + 1));
            pairCount = java.util.Arrays.copyOf(pairCount, n);
            pairSymbol = java.util.Arrays.copyOf(pairSymbol, n);
            pairContext = java.util.Arrays.copyOf(pairContext, n);
            pairNext = java.util.Arrays.copyOf(pairNext, n);
        }
        final int pair = pairsUsed++;
        pairSymbol[pair] = symbol;
        pairContext[pair] = context;
        pairNext[pair] = contextHead[context];
        contextHead[context] = pair + 1;
        pairIds.add(code, pair + 1);
        return pair;
    }

    /**
     * Starts a step: the updates from here on are what {@link #rollbackStep} takes back. Contexts counted as many
     * times as the rescaling total ({@code 2^30}) are halved first (each pair's count rounded up), between steps,
     * where nothing is to be taken back.
     */
    public void beginStep() {
        stepping = true;
        journalLength = 0;
        for (int i = 0; i < overfullLength; i++) {
            if (contextTotal[overfull[i]] >= rescaleAt) {
                halve(overfull[i]);
            }
        }
        overfullLength = 0;
        pairsAtStep = pairsUsed;
        contextsAtStep = contextsUsed;
        refusedAtStep = pairsRefused;
    }

    private void markOverfull(final int context) {
        if (overfullLength == overfull.length) {
            overfull = java.util.Arrays.copyOf(overfull, 2 * overfull.length);
        }
        overfull[overfullLength++] = context;
    }

    private void halve(final int context) {
        int total = 0;
        for (int pair = contextHead[context] - 1; pair >= 0; pair = pairNext[pair] - 1) {
            if (pairCount[pair] > 1) {
                pairCount[pair] -= pairCount[pair] / 2;
            }
            total += pairCount[pair];
        }
        contextTotal[context] = total;
    }

    /**
     * Takes back every update since {@link #beginStep}, newest first, and forgets the pairs and contexts first
     * counted in the step: the model is then as it was, its state's bytes too.
     */
    public void rollbackStep() {
        for (int i = journalLength - 1; i >= 0; i--) {
            final int pair = journal[i];
            final int c = pairContext[pair];
            contextTotal[c]--;
            if (--pairCount[pair] == 0) {
                contextDistinct[c]--;
            }
        }
        journalLength = 0;
        // a new pair went to its context's head, so newest first each is its context's head again
        for (int pair = pairsUsed - 1; pair >= pairsAtStep; pair--) {
            final int c = pairContext[pair];
            contextHead[c] = pairNext[pair];
            pairIds.remove(pairCode(pair));
            pairNext[pair] = 0;
        }
        pairsUsed = pairsAtStep;
        for (int c = contextsUsed - 1; c >= contextsAtStep; c--) {
            contextIds.remove(contextCodes[c]);
            contextHead[c] = 0;
        }
        contextsUsed = contextsAtStep;
        pairsRefused = refusedAtStep;
        int kept = 0;
        for (int i = 0; i < overfullLength; i++) {
            if (overfull[i] < contextsUsed) {
                overfull[kept++] = overfull[i];
            }
        }
        overfullLength = kept;
    }

    /** The code of a pair: its context's code with its event type appended. */
    private long pairCode(final int pair) {
        return withSymbol(contextCodes[pairContext[pair]], pairSymbol[pair]);
    }

    /** (Context, symbol) pairs counted. */
    public int pairs() {
        return pairsUsed;
    }

    /** Updates of an order not counted because {@link #maxPairs} were. */
    public long pairsRefused() {
        return pairsRefused;
    }

    /** Heap bytes of the count tables. */
    public long bytes() {
        return pairIds.bytes() + contextIds.bytes() + 16L * pairCount.length + 20L * contextTotal.length;
    }

    /**
     * Writes the counts, each table's keys ascending, so equal counts write equal bytes however they were filled.
     * Layout: magic, format, vocabulary, order, pair count, then {@code (long pair, int count)} per pair, then
     * the refused-update counter.
     */
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(STATE_MAGIC);
        out.writeInt(STATE_FORMAT);
        out.writeInt(vocabulary);
        out.writeInt(maxOrder);
        final long[] pairs = pairIds.sortedKeys();
        out.writeInt(pairs.length);
        for (final long pair : pairs) {
            out.writeLong(pair);
            out.writeInt(pairCount[pairIds.get(pair) - 1]);
        }
        out.writeLong(pairsRefused);
    }

    /**
     * Replaces the counts with those {@link #writeState} wrote, for the same vocabulary and order; the contexts'
     * totals are rebuilt from the pairs. Damage is refused.
     *
     * @throws StateMismatchException if the state counts more pairs than this model may (another setting)
     * @throws InvalidStateException naming what is wrong; this model is then empty, as after a state that ends
     *     early
     */
    public void readState(final DataInput in) throws IOException {
        clear();
        if (in.readInt() != STATE_MAGIC) {
            throw new InvalidStateException("context model state does not start with its magic number");
        }
        StateChecks.readExactly(in, STATE_FORMAT, "context model state format");
        StateChecks.readExactly(in, vocabulary, "context model vocabulary");
        StateChecks.readExactly(in, maxOrder, "context model order");
        final int n = StateChecks.readLength(in, Integer.MAX_VALUE, "context model pair count");
        if (n > maxPairs) { // a sound state of a model allowed more pairs: another setting, not damage
            throw new StateMismatchException("the context model state counts " + n + " pairs, this model at most "
                    + maxPairs);
        }
        long last = Long.MIN_VALUE;
        try {
            for (int i = 0; i < n; i++) {
                final long pair = in.readLong();
                final int count = in.readInt();
                if (pair <= last || !validPair(pair) || count < 1) {
                    throw new InvalidStateException("context model pair " + i + " (" + Long.toHexString(pair)
                            + ", count " + count + ") is not a pair of this model in ascending order");
                }
                last = pair;
                final long context = (pair & ORDER_BITS) | ((pair & ~ORDER_BITS) >>> symbolBits);
                final int c = contextId(context);
                final int id = newPair(c, pair, (int) (pair & ((1L << symbolBits) - 1)));
                pairCount[id] = count;
                contextTotal[c] += count;
                contextDistinct[c]++;
            }
            pairsRefused = StateChecks.readNonNegative(in, "context model refused updates");
            for (int c = 0; c < contextsUsed; c++) {
                if (contextTotal[c] >= rescaleAt) {
                    markOverfull(c);
                }
            }
        } catch (final IOException damaged) { // InvalidStateException, or a state that ends early
            clear();
            throw damaged;
        }
    }

    private void clear() {
        pairIds.clear();
        contextIds.clear();
        java.util.Arrays.fill(pairCount, 0, pairsUsed, 0);
        java.util.Arrays.fill(contextTotal, 0, contextsUsed, 0);
        java.util.Arrays.fill(contextDistinct, 0, contextsUsed, 0);
        java.util.Arrays.fill(contextHead, 0, contextsUsed, 0);
        pairsUsed = 0;
        contextsUsed = 0;
        pairsAtStep = 0;
        contextsAtStep = 0;
        refusedAtStep = 0;
        journalLength = 0;
        overfullLength = 0;
        pairsRefused = 0;
    }

    /** A pair code: order k in 1..maxOrder+1 in bits 56-59, k symbols of context and one more below. */
    private boolean validPair(final long pair) {
        final int order = (int) (pair >>> 56);
        if (order < 1 || order > maxOrder + 1) {
            return false;
        }
        return symbolsValid(pair & ~ORDER_BITS, order);
    }

    /** Whether {@code symbols} holds {@code n} symbols of the vocabulary and nothing above them. */
    private boolean symbolsValid(final long symbols, final int n) {
        if (symbols >>> (n * symbolBits) != 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (((symbols >>> (i * symbolBits)) & ((1L << symbolBits) - 1)) >= vocabulary) {
                return false;
            }
        }
        return true;
    }

    /** Code of the order-{@code k} context: its last {@code k} symbols, and {@code k + 1} in bits 56-59 (never 0). */
    private long context(final long history, final int k) {
        final long symbols = history & ((1L << (k * symbolBits)) - 1);
        return ((long) (k + 1) << 56) | symbols;
    }

    private long withSymbol(final long context, final int symbol) {
        // the order stays in bits 56-59; the symbols move up by one symbol's width (they end below bit 56)
        return (context & ORDER_BITS) | ((context & ~ORDER_BITS) << symbolBits) | symbol;
    }

    private void checkSymbol(final int symbol) {
        if (symbol < 0 || symbol >= vocabulary) {
            throw new IllegalArgumentException("symbol " + symbol + " outside [0, " + vocabulary + ")");
        }
    }
}
