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
    private static final int PAIR_INTS = 3;
    private static final int COUNT = 0;
    private static final int SYMBOL = 1;
    private static final int CONTEXT = 2;
    /** Pairs the arena can hold in one int array. */
    private static final int MAX_ARENA_PAIRS = (Integer.MAX_VALUE - 8) / PAIR_INTS;
    private final int vocabulary;
    private final int maxOrder;
    /** Scratch of {@link #seenContexts}: the context id of each order (one thread at a time, as everything here). */
    private final int[] seen;
    private final int maxPairs;
    private final int symbolBits;
    // Pairs and contexts live in arenas (ids never move, so a context can list its pairs for the distribution to
    // visit only the event types that followed it); the hash tables map a code to its id + 1.
    private final LongIntCounts pairIds = new LongIntCounts();
    private final LongIntCounts contextIds = new LongIntCounts();
    /** Per pair, side by side ({@link #PAIR_INTS} ints, one cache line): its count, event type and context id. */
    private int[] pairs = new int[1024 * PAIR_INTS];
    private int pairsUsed;
    private int[] contextTotal = new int[256];
    private int[] contextDistinct = new int[256];
    /**
     * Each context's pair ids, oldest first, in an array of its own: the distribution reads them in sequence, with
     * loads that do not wait on each other (a linked chain through the arena, which this replaced, made every pair a
     * dependent cache miss and the mixture a fifth of a training step). Null for a context with none.
     */
    private int[][] successors = new int[256][];
    private int[] successorCount = new int[256];
    /** Ints held by the successor lists, for {@link #bytes}. */
    private long successorInts;
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
        this.seen = new int[maxOrder + 1];
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
        final int longest = seenContexts(history);
        double p = 0;
        double weight = 1; // the escape weights of the orders above the one being added
        for (int k = longest; k >= 0; k--) {
            final int c = seen[k];
            final double norm = 1.0 / (contextTotal[c] + contextDistinct[c]);
            final int pair = pairIds.get(withSymbol(context(history, k), symbol)) - 1;
            p += (pair < 0 ? 0 : pairs[PAIR_INTS * pair + COUNT]) * (weight * norm);
            weight *= contextDistinct[c] * norm;
        }
        return p + weight / vocabulary;
    }

    /**
     * The whole next-symbol distribution after {@code history} into {@code out} (length the vocabulary). Each order
     * visits only the event types that followed its context, longest first; the orders' escape weights multiply
     * into one factor for the uniform distribution, so only that is a pass over every event type.
     *
     * @return the longest order whose context was seen, -1 when none was (the uniform distribution)
     */
    public int distribution(final long history, final double[] out) {
        if (out.length != vocabulary) {
            throw new IllegalArgumentException("out has " + out.length + " entries for " + vocabulary + " symbols");
        }
        java.util.Arrays.fill(out, 0.0);
        final int longest = seenContexts(history);
        double weight = 1;
        for (int k = longest; k >= 0; k--) {
            final int c = seen[k];
            final double norm = 1.0 / (contextTotal[c] + contextDistinct[c]);
            final double w = weight * norm;
            final int[] list = successors[c];
            for (int j = 0, end = successorCount[c]; j < end; j++) {
                final int at = PAIR_INTS * list[j];
                out[pairs[at + SYMBOL]] += pairs[at + COUNT] * w;
            }
            weight *= contextDistinct[c] * norm;
        }
        final double uniform = weight / vocabulary;
        for (int s = 0; s < vocabulary; s++) {
            out[s] += uniform;
        }
        return longest;
    }

    /**
     * Ids of the history's contexts into {@link #seen}, order 0 upwards, up to the first that was never seen (a
     * longer context ending in it was never seen either) or has no counts; returns the longest order found, or -1.
     */
    private int seenContexts(final long history) {
        int longest = -1;
        for (int k = 0; k <= historyLength(history); k++) {
            final int c = contextIds.get(context(history, k)) - 1;
            if (c < 0 || contextTotal[c] == 0) {
                break;
            }
            seen[k] = c;
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
            final int c = pairs[PAIR_INTS * pair + CONTEXT];
            if (++contextTotal[c] == rescaleAt) {
                markOverfull(c);
            }
            if (++pairs[PAIR_INTS * pair + COUNT] == 1) {
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
            successors = java.util.Arrays.copyOf(successors, n);
            successorCount = java.util.Arrays.copyOf(successorCount, n);
            contextCodes = java.util.Arrays.copyOf(contextCodes, n);
        }
        contextCodes[contextsUsed] = context;
        contextIds.add(context, contextsUsed + 1);
        return contextsUsed++;
    }

    /** A new pair of count 0 (the arena holds 0 there: never used, cleared or rolled back), last in its context. */
    private int newPair(final int context, final long code, final int symbol) {
        final int capacity = pairs.length / PAIR_INTS;
        if (pairsUsed == capacity) {
            final long n = Math.min(Math.min(2L * capacity, Math.max(maxPairs, capacity + 1L)), MAX_ARENA_PAIRS);
            if (n <= capacity) {
                throw new IllegalStateException("context model: more than " + MAX_ARENA_PAIRS + " pairs");
            }
            pairs = java.util.Arrays.copyOf(pairs, (int) n * PAIR_INTS);
        }
        final int pair = pairsUsed++;
        pairs[PAIR_INTS * pair + SYMBOL] = symbol;
        pairs[PAIR_INTS * pair + CONTEXT] = context;
        int[] list = successors[context];
        if (list == null || successorCount[context] == list.length) {
            final int grown = list == null ? 2 : 2 * list.length;
            successorInts += grown - (list == null ? 0 : list.length);
            list = list == null ? new int[grown] : java.util.Arrays.copyOf(list, grown);
            successors[context] = list;
        }
        list[successorCount[context]++] = pair;
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
        rescale();
        pairsAtStep = pairsUsed;
        contextsAtStep = contextsUsed;
        refusedAtStep = pairsRefused;
    }

    /**
     * Halves the counts of the contexts counted as many times as the rescaling total, as {@link #beginStep} does
     * first: for a model that counts without steps (nothing to take back), which must call it at least once every
     * {@code 2^30} updates so that no total overflows. Cheap when there is nothing to halve.
     */
    public void rescale() {
        for (int i = 0; i < overfullLength; i++) {
            if (contextTotal[overfull[i]] >= rescaleAt) {
                halve(overfull[i]);
            }
        }
        overfullLength = 0;
    }

    private void markOverfull(final int context) {
        if (overfullLength == overfull.length) {
            overfull = java.util.Arrays.copyOf(overfull, 2 * overfull.length);
        }
        overfull[overfullLength++] = context;
    }

    private void dropSuccessors(final int context) {
        if (successors[context] != null) {
            successorInts -= successors[context].length;
            successors[context] = null;
        }
        successorCount[context] = 0;
    }

    private void halve(final int context) {
        int total = 0;
        final int[] list = successors[context];
        for (int j = 0; j < successorCount[context]; j++) {
            final int at = PAIR_INTS * list[j] + COUNT;
            if (pairs[at] > 1) {
                pairs[at] -= pairs[at] / 2;
            }
            total += pairs[at];
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
            final int c = pairs[PAIR_INTS * pair + CONTEXT];
            contextTotal[c]--;
            if (--pairs[PAIR_INTS * pair + COUNT] == 0) {
                contextDistinct[c]--;
            }
        }
        journalLength = 0;
        // a new pair went to the end of its context's list, so newest first each is the last of its list again
        for (int pair = pairsUsed - 1; pair >= pairsAtStep; pair--) {
            successorCount[pairs[PAIR_INTS * pair + CONTEXT]]--;
            pairIds.remove(pairCode(pair));
        }
        pairsUsed = pairsAtStep;
        for (int c = contextsUsed - 1; c >= contextsAtStep; c--) {
            contextIds.remove(contextCodes[c]);
            dropSuccessors(c);
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
        return withSymbol(contextCodes[pairs[PAIR_INTS * pair + CONTEXT]], pairs[PAIR_INTS * pair + SYMBOL]);
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
        return pairIds.bytes() + contextIds.bytes() + 4L * pairs.length + 24L * contextTotal.length
                + 4L * successorInts + 16L * contextsUsed;
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
        final long[] codes = pairIds.sortedKeys();
        out.writeInt(codes.length);
        for (final long pair : codes) {
            out.writeLong(pair);
            out.writeInt(pairs[PAIR_INTS * (pairIds.get(pair) - 1) + COUNT]);
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
                pairs[PAIR_INTS * id + COUNT] = count;
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
        java.util.Arrays.fill(pairs, 0, PAIR_INTS * pairsUsed, 0);
        java.util.Arrays.fill(contextTotal, 0, contextsUsed, 0);
        java.util.Arrays.fill(contextDistinct, 0, contextsUsed, 0);
        for (int c = 0; c < contextsUsed; c++) {
            dropSuccessors(c);
        }
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
