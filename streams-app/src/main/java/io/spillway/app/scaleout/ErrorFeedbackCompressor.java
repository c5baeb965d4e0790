package io.spillway.app.scaleout;

import io.spillway.engine.TensorDelta;
import io.spillway.engine.optim.TopK;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Top-k compression of model updates with error feedback: per tensor, what is published is the k entries of
 * largest magnitude of (update + residual), k = ceil(density * size); the rest becomes the new residual and joins
 * the next update. Nothing is lost: the updates' sum equals the published deltas' sum plus the residual (up to
 * float rounding), and {@link #drain()} publishes the residual when the stream goes quiet.
 *
 * <p>The trainer applies to its own model exactly what it publishes (through {@link Compressed#correction()}),
 * so every replica holds the initial weights plus the same published deltas.
 *
 * <p>Threading: not thread-safe; the trainer thread only.
 */
public final class ErrorFeedbackCompressor {
    private final double density;
    private final Map<String, float[]> residuals = new HashMap<>();

    /**
     * What one update becomes.
     *
     * @param published the deltas to publish (and to hold locally)
     * @param correction published minus update: what to add to a model that already holds the update
     */
    public record Compressed(List<TensorDelta> published, List<TensorDelta> correction) {
    }

    /** @param density fraction of each tensor's entries published per update, in (0, 1] */
    public ErrorFeedbackCompressor(final double density) {
        if (!(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("density must be in (0, 1]: " + density);
        }
        this.density = density;
    }

    /** Adds {@code update} to the residuals and takes out the largest entries for publishing. */
    public Compressed compress(final List<TensorDelta> update) {
        return compress(update, 1f);
    }

    /**
     * Adds {@code weight} times {@code update} to the residuals and takes out the largest entries for publishing;
     * the correction is still relative to the whole update (the model it applies to holds all of it).
     */
    public Compressed compress(final List<TensorDelta> update, final float weight) {
        if (!(weight > 0 && weight <= 1)) {
            throw new IllegalArgumentException("weight must be in (0, 1]: " + weight);
        }
        final List<TensorDelta> published = new ArrayList<>();
        final List<TensorDelta> correction = new ArrayList<>();
        for (final TensorDelta u : update) {
            final float[] acc = residuals.computeIfAbsent(u.tensor(), t -> new float[u.size()]);
            if (acc.length != u.size()) {
                throw new IllegalArgumentException("tensor " + u.tensor() + " changed size: " + acc.length + " -> "
                        + u.size());
            }
            for (int k = 0; k < u.indices().length; k++) {
                acc[u.indices()[k]] += weight == 1f ? u.values()[k] : weight * u.values()[k];
            }
            final int keep = (int) Math.min(acc.length, Math.ceil(density * acc.length));
            final boolean[] chosen = largest(acc, keep);
            int count = 0;
            for (final boolean c : chosen) {
                count += c ? 1 : 0;
            }
            final int[] idx = new int[count];
            final float[] val = new float[count];
            int n = 0;
            for (int i = 0; i < acc.length; i++) {
                if (chosen[i]) {
                    idx[n] = i;
                    val[n++] = acc[i];
                    acc[i] = 0;
                }
            }
            if (count > 0) {
                published.add(new TensorDelta(u.tensor(), u.size(), idx, val));
            }
            final TensorDelta fix = difference(u, idx, val);
            if (fix.indices().length > 0) {
                correction.add(fix);
            }
        }
        return new Compressed(List.copyOf(published), List.copyOf(correction));
    }

    /** The whole residual as deltas (to publish and to hold locally), leaving it zero. */
    public List<TensorDelta> drain() {
        final List<TensorDelta> out = new ArrayList<>();
        for (final Map.Entry<String, float[]> e : residuals.entrySet().stream()
                .sorted(Map.Entry.comparingByKey()).toList()) {
            final float[] r = e.getValue();
            int count = 0;
            for (final float v : r) {
                count += v != 0 ? 1 : 0;
            }
            if (count == 0) {
                continue;
            }
            final int[] idx = new int[count];
            final float[] val = new float[count];
            int n = 0;
            for (int i = 0; i < r.length; i++) {
                if (r[i] != 0) {
                    idx[n] = i;
                    val[n++] = r[i];
                    r[i] = 0;
                }
            }
            out.add(new TensorDelta(e.getKey(), r.length, idx, val));
        }
        return List.copyOf(out);
    }

    /** Entries held back, over all tensors. */
    public int residualEntries() {
        int n = 0;
        for (final float[] r : residuals.values()) {
            for (final float v : r) {
                n += v != 0 ? 1 : 0;
            }
        }
        return n;
    }

    /** Euclidean norm of the residual. */
    public double residualNorm() {
        double sum = 0;
        for (final float[] r : residuals.values()) {
            for (final float v : r) {
                sum += (double) v * v;
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Marks the {@code keep} nonzero entries of largest magnitude (ties broken by lower index, so the choice is
     * deterministic); all nonzero entries when there are no more than {@code keep}.
     */
    static boolean[] largest(final float[] values, final int keep) {
        final double[] widened = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            widened[i] = values[i];
        }
        final int[] picked = new int[Math.min(keep, values.length)];
        final int n = new TopK().select(widened, 0, values.length, keep, picked, 0);
        final boolean[] chosen = new boolean[values.length];
        for (int k = 0; k < n; k++) {
            chosen[picked[k]] = values[picked[k]] != 0; // zeros are never published
        }
        return chosen;
    }

    /** published - update, over the union of their indices (both sorted), nonzero entries only. */
    private static TensorDelta difference(final TensorDelta u, final int[] pIdx, final float[] pVal) {
        final int[] uIdx = u.indices();
        final float[] uVal = u.values();
        final int[] idx = new int[uIdx.length + pIdx.length];
        final float[] val = new float[idx.length];
        int a = 0;
        int b = 0;
        int n = 0;
        while (a < uIdx.length || b < pIdx.length) {
            final int i;
            final float d;
            if (b >= pIdx.length || (a < uIdx.length && uIdx[a] < pIdx[b])) {
                i = uIdx[a];
                d = -uVal[a++];
            } else if (a >= uIdx.length || pIdx[b] < uIdx[a]) {
                i = pIdx[b];
                d = pVal[b++];
            } else {
                i = uIdx[a];
                d = pVal[b++] - uVal[a++];
            }
            if (d != 0) {
                idx[n] = i;
                val[n++] = d;
            }
        }
        return new TensorDelta(u.tensor(), u.size(), java.util.Arrays.copyOf(idx, n), java.util.Arrays.copyOf(val, n));
    }
}
