package io.spillway.engine.model.egru;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Carried state of the EGRU for a batch: the pre-reset cell states {@code c-hat_t} (fp32) of every layer and
 * element, and the ids of the units that emitted at {@code t} (strictly increasing). Everything else follows
 * bit-exactly: the event values {@code y = c-hat} at the ids, the post-reset state {@code c = c-hat - theta} there
 * and {@code c-hat} elsewhere. Storing {@code c-hat}, not {@code c}, keeps this exact ({@code (c-hat - theta) +
 * theta} need not round back to {@code c-hat}), and the stored ids are the authority on which units emitted.
 * Layout: population {@code p = layer * batch + b}; its states at {@code cell[p * hidden ..]}, its ids in
 * {@code events[p]}.
 *
 * <p>Immutable by contract: the arrays are never written after construction (tapes and later states share
 * them), which lets a checkpoint schedule keep a state as a checkpoint.
 */
public final class EgruState {
    private static final int[] NONE = new int[0];

    private final int batch;
    private final int layers;
    private final int hidden;
    private final float[] cell;
    private final int[][] events;

    /** Takes ownership of the arrays; the caller must not modify them afterwards. */
    public EgruState(final int batch, final int layers, final int hidden, final float[] cell, final int[][] events) {
        if (cell.length != batch * layers * hidden || events.length != batch * layers) {
            throw new IllegalArgumentException("state arrays do not match batch=" + batch + " layers=" + layers
                    + " hidden=" + hidden);
        }
        this.batch = batch;
        this.layers = layers;
        this.hidden = hidden;
        this.cell = cell;
        this.events = events;
    }

    /** All cell states 0, no events: the state of a key never seen. */
    public static EgruState zero(final int batch, final int layers, final int hidden) {
        final int[][] e = new int[batch * layers][];
        Arrays.fill(e, NONE);
        return new EgruState(batch, layers, hidden, new float[batch * layers * hidden], e);
    }

    /** Stacks batch-1 states into one batch state, in list order. */
    public static EgruState stack(final List<EgruState> parts) {
        final EgruState first = parts.getFirst();
        final int b = parts.size();
        final int layers = first.layers;
        final int n = first.hidden;
        final float[] c = new float[b * layers * n];
        final int[][] e = new int[b * layers][];
        for (int i = 0; i < b; i++) {
            final EgruState p = Objects.requireNonNull(parts.get(i));
            if (p.batch != 1 || p.layers != layers || p.hidden != n) {
                throw new IllegalArgumentException("stack needs batch-1 states of one shape");
            }
            for (int l = 0; l < layers; l++) {
                System.arraycopy(p.cell, l * n, c, (l * b + i) * n, n);
                e[l * b + i] = p.events[l];
            }
        }
        return new EgruState(b, layers, n, c, e);
    }

    /** The batch-1 state of element {@code b}. */
    public EgruState element(final int b) {
        Objects.checkIndex(b, batch);
        final float[] c = new float[layers * hidden];
        final int[][] e = new int[layers][];
        for (int l = 0; l < layers; l++) {
            System.arraycopy(cell, (l * batch + b) * hidden, c, l * hidden, hidden);
            e[l] = events[l * batch + b];
        }
        return new EgruState(1, layers, hidden, c, e);
    }

    public int batch() {
        return batch;
    }

    public int layers() {
        return layers;
    }

    public int hidden() {
        return hidden;
    }

    /** Pre-reset cell state of unit {@code i} of {@code (layer, b)}. */
    public float cell(final int layer, final int b, final int i) {
        return cell[(layer * batch + b) * hidden + i];
    }

    /** Copy of the ids of the units of {@code (layer, b)} that emitted. */
    public int[] eventIds(final int layer, final int b) {
        return events[layer * batch + b].clone();
    }

    /** Events over all populations. */
    public int eventCount() {
        int c = 0;
        for (final int[] e : events) {
            c += e.length;
        }
        return c;
    }

    float[] rawCell() {
        return cell;
    }

    int[][] rawEvents() {
        return events;
    }

    /** Heap bytes of the cell states and the event ids. */
    public long bytes() {
        return 4L * cell.length + 4L * eventCount();
    }

    /** Bitwise equality of the cell states and equal event lists. */
    public boolean sameAs(final EgruState o) {
        if (o == null || batch != o.batch || layers != o.layers || hidden != o.hidden) {
            return false;
        }
        for (int i = 0; i < cell.length; i++) {
            if (Float.floatToRawIntBits(cell[i]) != Float.floatToRawIntBits(o.cell[i])) {
                return false;
            }
        }
        for (int p = 0; p < events.length; p++) {
            if (!Arrays.equals(events[p], o.events[p])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "EgruState[batch=" + batch + ", layers=" + layers + ", hidden=" + hidden + ", events=" + eventCount()
                + "]";
    }
}
