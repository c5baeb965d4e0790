package io.spillway.engine.optim;

import io.spillway.engine.optim.internals.IndexEncoding;
import io.spillway.engine.optim.internals.ValueEncoding;

/**
 * Settings of the M-FAC family (docs/spec-efcp-mfac.md §1.4, §2): the window, the damping, the compression of
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
 * @param momentumVariant heavy-ball (EFCP: v = mu v + u), EMA (M-FAC repo: v = mu v + (1 - mu) u) or Nesterov
 * @param weightDecay wd; 0 = none
 * @param weightDecayVariant how wd is applied (the reference codes differ; docs/spec-efcp-mfac.md §1.4 and §2.6)
 * @param fixScaling use min(t, m) instead of m while the window fills (off in every published run)
 * @param clipNorm largest L2 norm of the gradient before it enters the error feedback and the window; a
 *     larger gradient is scaled down to it (as EFCP's ASDL runs clip, there after preconditioning). 0 = off
 * @param warmupSteps W: the t-th step (1-based) uses the learning rate {@code eta * min(1, t / W)}, so the
 *     base rate is reached at step W; steps taken while the window is nearly empty are preconditioned by
 *     little more than {@code 1 / lambda}. 0 = off
 */
public record MFacSettings(float learningRate, int windowSize, double damping, double density, boolean errorFeedback,
                           int blockSize, IndexEncoding indexEncoding, ValueEncoding valueEncoding, float momentum,
                           MomentumVariant momentumVariant, float weightDecay, WeightDecayVariant weightDecayVariant,
                           boolean fixScaling, double clipNorm, int warmupSteps) {

    /**
     * Momentum on the preconditioned vector u: the two of the reference codes, and Nesterov's look-ahead
     * form of heavy ball ({@code v = mu v + u}, step along {@code u + mu v}), as in PyTorch's SGD with
     * {@code nesterov=True}. Every variant with mu = 0 steps along u itself.
     */
    public enum MomentumVariant { HEAVY_BALL, EMA, NESTEROV }

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
                || blockSize < 0 || momentum < 0 || momentum >= 1 || weightDecay < 0
                || !(clipNorm >= 0) || Double.isInfinite(clipNorm) || warmupSteps < 0) {
            throw new IllegalArgumentException("bad M-FAC settings: lr=" + learningRate + " m=" + windowSize
                    + " lambda=" + damping + " density=" + density + " block=" + blockSize + " mu=" + momentum
                    + " wd=" + weightDecay + " clip=" + clipNorm + " warmup=" + warmupSteps);
        }
        if (indexEncoding == IndexEncoding.UINT16_BLOCK_RELATIVE && (blockSize == 0 || blockSize > 65_536)) {
            throw new IllegalArgumentException("16-bit block-relative indices need 0 < blockSize <= 65536, got "
                    + blockSize);
        }
    }

    /** Dense M-FAC with the spec's online defaults (m = 64). */
    public static MFacSettings dense(final float learningRate, final int windowSize, final double damping) {
        return new MFacSettings(learningRate, windowSize, damping, 1.0, false, 0, IndexEncoding.INT32,
                ValueEncoding.FP32, 0f, MomentumVariant.HEAVY_BALL, 0f, WeightDecayVariant.DECOUPLED_SCALED, false, 0, 0);
    }

    /** EFCP sparse M-FAC: global Top-K at {@code density} with error feedback, 32-bit indices, fp32 values. */
    public static MFacSettings sparse(final float learningRate, final int windowSize, final double damping,
                                      final double density) {
        return new MFacSettings(learningRate, windowSize, damping, density, true, 0, IndexEncoding.INT32,
                ValueEncoding.FP32, 0f, MomentumVariant.HEAVY_BALL, 0f, WeightDecayVariant.DECOUPLED_SCALED, false, 0, 0);
    }

    public MFacSettings withErrorFeedback(final boolean on) {
        return new MFacSettings(learningRate, windowSize, damping, density, on, blockSize, indexEncoding, valueEncoding,
                momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling, clipNorm, warmupSteps);
    }

    public MFacSettings withBlocks(final int size, final IndexEncoding indices, final ValueEncoding values) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, size, indices, values,
                momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling, clipNorm, warmupSteps);
    }

    public MFacSettings withMomentum(final float mu, final MomentumVariant variant) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, mu, variant, weightDecay, weightDecayVariant, fixScaling, clipNorm, warmupSteps);
    }

    public MFacSettings withWeightDecay(final float wd, final WeightDecayVariant variant) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, wd, variant, fixScaling, clipNorm, warmupSteps);
    }

    public MFacSettings withFixScaling(final boolean on) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, weightDecay, weightDecayVariant, on, clipNorm, warmupSteps);
    }

    /** Gradients longer than {@code maxNorm} (L2) are scaled down to it before anything else; 0 = off. */
    public MFacSettings withClipping(final double maxNorm) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling, maxNorm,
                warmupSteps);
    }

    /** Linear learning-rate warm-up reaching the base rate at step {@code steps} (1-based); 0 = off. */
    public MFacSettings withWarmup(final int steps) {
        return new MFacSettings(learningRate, windowSize, damping, density, errorFeedback, blockSize, indexEncoding,
                valueEncoding, momentum, momentumVariant, weightDecay, weightDecayVariant, fixScaling, clipNorm, steps);
    }

    /** The learning rate of step {@code t} (1-based): eta, ramped linearly over the warm-up. */
    public float learningRateAt(final long t) {
        return warmupSteps == 0 || t >= warmupSteps ? learningRate : learningRate * ((float) t / warmupSteps);
    }

    /** Whether rows are compressed (density below 1). */
    public boolean sparse() {
        return density < 1.0;
    }
}
