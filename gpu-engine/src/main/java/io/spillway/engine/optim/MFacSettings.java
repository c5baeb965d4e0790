package io.spillway.engine.optim;

import io.spillway.engine.optim.internals.IndexEncoding;
import io.spillway.engine.optim.internals.ValueEncoding;

/**
 * Settings of the M-FAC family (efcp-mfac spec §1.4, §2): the window, the damping, the compression of
 * the window rows, and which update variant is used. Immutable.
 *
 * @param learningRate eta
 * @param windowSize m, gradients kept
 * @param damping lambda
 * @param density rho in (0, 1]: the fraction of coordinates kept per row (1 = no compression)
 * @param errorFeedback accumulate what compression drops into the next gradient (EFCP); off = plain Top-K
 * @param blockSize 0 for a global Top-K, else a block-wise Top-K over blocks of this many coordinates
 * @param indexEncoding how kept coordinates are stored
 * @param valueEncoding how kept values are stored
 * @param momentum mu; 0 = none
 * @param momentumVariant heavy-ball (EFCP: v = mu v + u) or EMA (M-FAC repo: v = mu v + (1 - mu) u)
 * @param weightDecay wd; 0 = none
 * @param weightDecayVariant how wd is applied (the reference codes differ; spec §1.4 and §2.6)
 * @param fixScaling use min(t, m) instead of m while the window fills (off in every published run)
 */
public record MFacSettings(float learningRate, int windowSize, double damping, double density, boolean errorFeedback,
                           int blockSize, IndexEncoding indexEncoding, ValueEncoding valueEncoding, float momentum,
                           MomentumVariant momentumVariant, float weightDecay, WeightDecayVariant weightDecayVariant,
                           boolean fixScaling) {

    /** Momentum variants of the reference codes. */
    public enum MomentumVariant { HEAVY_BALL, EMA }

    /** Weight decay variants of the reference codes. */
    public enum WeightDecayVariant {
        /** theta <- theta (1 - eta wd), decoupled and scaled by eta (ISTA package). */
        DECOUPLED_SCALED,
        /** theta <- theta (1 - wd), decoupled, not scaled by eta (EFCP {@code wd} mode). */
        DECOUPLED,
        /** wd theta added to the gradient before it enters the window (M-FAC repo). */
        L2
    }

    public MFacSettings {
        if (!(learningRate > 0) || windowSize <= 0 || !(damping > 0) || !(density > 0 && density <= 1)
                || blockSize < 0 || momentum < 0 || momentum >= 1 || weightDecay < 0) {
            throw new IllegalArgumentException("bad M-FAC settings: lr=" + learningRate + " m=" + windowSize
                    + " lambda=" + damping + " density=" + density + " block=" + blockSize + " mu=" + momentum
                    + " wd=" + weightDecay);
        }
        if (indexEncoding == IndexEncoding.UINT16_BLOCK_RELATIVE && (blockSize == 0 || blockSize > 65_536)) {
            throw new IllegalArgumentException("16-bit block-relative indices need 0 < blockSize <= 65536, got "
                    + blockSize);
        }
    }

    /** Dense M-FAC with the spec's online defaults (m = 64). */
    public static MFacSettings dense(final float learningRate, final int windowSize, final double damping) {
        return new MFacSettings(learningRate, windowSize, damping, 1.0, false, 0, IndexEncoding.INT32,
                ValueEncoding.FP32, 0f, MomentumVariant.HEAVY_BALL, 0f, WeightDecayVariant.DECOUPLED_SCALED, false);
    }

    /** EFCP sparse M-FAC: global Top-K at {@code density} with error feedback, 32-bit indices, fp32 values. */
    public static MFacSettings sparse(final float learningRate, final int windowSize, final double damping,
                                      final double density) {
        return new MFacSettings(learningRate, windowSize, damping, density, true, 0, IndexEncoding.INT32,
                ValueEncoding.FP32, 0f, MomentumVariant.HEAVY_BALL, 0f, WeightDecayVariant.DECOUPLED_SCALED, false);
    }

    public MFacSettings withErrorFeedback(final boolean on) {
        return new MFacSettings(learningRate, windowSize, damping, density, on, blockSize, indexEncoding, valueEncoding,
                momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling);
    }

    public MFacSettings withBlocks(final int size, final IndexEncoding indices, final ValueEncoding values) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, size, indices, values,
                momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling);
    }

    public MFacSettings withMomentum(final float mu, final MomentumVariant variant) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, mu, variant, weightDecay, weightDecayVariant, fixScaling);
    }

    public MFacSettings withWeightDecay(final float wd, final WeightDecayVariant variant) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, wd, variant, fixScaling);
    }

    public MFacSettings withFixScaling(final boolean on) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, weightDecay, weightDecayVariant, on);
    }

    /** Whether rows are compressed (density below 1). */
    public boolean sparse() {
        return density < 1.0;
    }
}
