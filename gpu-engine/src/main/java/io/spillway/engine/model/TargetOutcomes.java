package io.spillway.engine.model;

import java.util.Arrays;

/**
 * What a window's backward pass found at each (step, element) with a target: the arg-max class, its probability,
 * the cross-entropy, and their sums over the window; every cell keeps one and reads them out the same way
 * ({@link CellWindow#lossSum}, {@link CellWindow#predicted}, ...). Written by the thread that runs the backward pass.
 */
public final class TargetOutcomes {
    private final int batch;
    private final int[] predicted;
    private final float[] probability;
    private final float[] loss;
    private double lossSum;
    private int correct;
    private int classes;
    private float[] distributions;

    public TargetOutcomes(final int batch, final int steps) {
        this.batch = batch;
        final int cells = Math.multiplyExact(batch, steps);
        this.predicted = new int[cells];
        this.probability = new float[cells];
        this.loss = new float[cells];
        Arrays.fill(predicted, -1);
    }

    /**
     * Keeps each target's whole distribution as well (what a mixture of experts needs), for {@code classes}
     * classes; call before the backward pass. Costs {@code batch * steps * classes} floats.
     */
    public void keepDistributions(final int classes) {
        this.classes = classes;
        this.distributions = new float[Math.multiplyExact(predicted.length, classes)];
    }

    /** Whether the cells are to record whole distributions ({@link #recordProbability}). */
    public boolean keepsDistributions() {
        return distributions != null;
    }

    /** The probability of class {@code k} at {@code (t, b)}; only where {@link #keepsDistributions}. */
    public void recordProbability(final int t, final int b, final int k, final double p) {
        distributions[(t * batch + b) * classes + k] = (float) p;
    }

    /** Copies the distribution recorded at {@code (t, b)} into {@code out} (length the classes). */
    public void distribution(final int t, final int b, final float[] out) {
        if (distributions == null) {
            throw new IllegalStateException("distributions were not kept");
        }
        System.arraycopy(distributions, (t * batch + b) * classes, out, 0, classes);
    }

    /** Starts a backward pass: the sums from zero (the per-cell outcomes are overwritten where targets are). */
    public void reset() {
        lossSum = 0;
        correct = 0;
    }

    /** The outcome at step {@code t}, element {@code b}, whose target was {@code target}. */
    public void record(final int t, final int b, final int argMax, final float argMaxProbability,
                       final double crossEntropy, final int target) {
        final int cell = t * batch + b;
        predicted[cell] = argMax;
        probability[cell] = argMaxProbability;
        loss[cell] = (float) crossEntropy;
        lossSum += crossEntropy;
        if (argMax == target) {
            correct++;
        }
    }

    /** Sum of the per-target cross-entropy (nats). */
    public double lossSum() {
        return lossSum;
    }

    /** Targets whose arg-max prediction was right. */
    public int correct() {
        return correct;
    }

    /** Arg-max class predicted at {@code (t, b)}, or -1 where there was no target. */
    public int predicted(final int t, final int b) {
        return predicted[t * batch + b];
    }

    public float probability(final int t, final int b) {
        return probability[t * batch + b];
    }

    public float loss(final int t, final int b) {
        return loss[t * batch + b];
    }
}
