package io.spillway.app.serving;

import java.util.Arrays;

/**
 * One complete version of a served model: its weights as a flat vector that nothing writes to, and when it was
 * published and applied. A {@link Predictor} swaps whole versions behind one reference, so a reader holds either
 * this version or another, never a mix. Immutable and thread-safe.
 */
public final class ModelVersion {
    /** Where the weights came from. */
    public enum Source {
        /** The configuration's seeded initial weights (nothing published yet). */
        INITIAL,
        /** A snapshot, exactly the trainer's weights at that version. */
        SNAPSHOT,
        /** A snapshot (or the initial weights) plus the deltas after it; fp32 differences, so to rounding. */
        DELTAS
    }

    private final String modelId;
    private final long version;
    private final String cell;
    private final int vocabularySize;
    private final long publishedAtMs;
    private final long appliedAtMs;
    private final Source source;
    private final float[] weights;

    ModelVersion(final String modelId, final long version, final String cell, final int vocabularySize,
                 final long publishedAtMs, final long appliedAtMs, final Source source, final float[] weights) {
        this.modelId = modelId;
        this.version = version;
        this.cell = cell;
        this.vocabularySize = vocabularySize;
        this.publishedAtMs = publishedAtMs;
        this.appliedAtMs = appliedAtMs;
        this.source = source;
        this.weights = weights;
    }

    public String modelId() {
        return modelId;
    }

    /** The trainer's model version (optimizer steps applied). */
    public long version() {
        return version;
    }

    /** The cell's name, e.g. {@code egru}. */
    public String cell() {
        return cell;
    }

    public int vocabularySize() {
        return vocabularySize;
    }

    /** When the trainer published this version (its newest delta's creation time, epoch ms), or -1 if unknown. */
    public long publishedAtMs() {
        return publishedAtMs;
    }

    /** When this process started serving it, epoch ms. */
    public long appliedAtMs() {
        return appliedAtMs;
    }

    /** Publication to application, seconds; NaN when the publication time is unknown. */
    public double stalenessSeconds() {
        return publishedAtMs < 0 ? Double.NaN : Math.max(0, appliedAtMs - publishedAtMs) / 1000.0;
    }

    public Source source() {
        return source;
    }

    /** A copy of the flat weight vector (tensors in the cell's order). */
    public float[] weights() {
        return weights.clone();
    }

    /** The live vector, for scoring; never written. */
    float[] rawWeights() {
        return weights;
    }

    /** Whether {@code other} has bitwise the same weights. */
    public boolean sameWeights(final ModelVersion other) {
        return Arrays.equals(weights, other.weights);
    }

    @Override
    public String toString() {
        return "model " + modelId + " version " + version + " (" + cell + ", " + source.name().toLowerCase(
                java.util.Locale.ROOT) + ")";
    }
}
