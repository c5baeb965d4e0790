package io.spillway.engine.optim;

import io.spillway.engine.backend.WindowKernels;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.optim.internals.IndexEncoding;
import io.spillway.engine.optim.internals.ValueEncoding;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Builds an optimizer from a name with optional settings, e.g. {@code adam}, {@code mfac},
 * {@code mfac-sparse:m=32,lambda=0.01,density=0.01,block=4096,idx=uint16,val=bf16}, {@code ggt-sparse:m=32}.
 * Names: {@code sgd}, {@code adam}, {@code mfac} (dense), {@code mfac-sparse} (EFCP: Top-K with error
 * feedback), {@code mfac-sparse-no-ef} (Top-K without error feedback, for comparison), {@code ggt},
 * {@code ggt-sparse}. Unknown names or settings fail with the list of what is accepted.
 */
public final class Optimizers {
    /** Window size for online learning (docs/spec-efcp-mfac.md §7 suggests 32-128). */
    public static final int DEFAULT_WINDOW = 32;
    /** Damping from the quality benchmark on the spiking RNN (efcp.json; eta/lambda near 1/3 worked best). */
    public static final double DEFAULT_DAMPING = 0.3;
    /** Density of {@code mfac-sparse-no-ef} and {@code ggt-sparse} (the EFCP papers' 1%). */
    public static final double DEFAULT_DENSITY = 0.01;
    /**
     * {@code mfac-sparse}'s defaults, from the real-text streams (bench/results/realdata.json): Nesterov
     * momentum 0.85 on the preconditioned step and 5% density at learning rate 0.05. With the damping of 0.3
     * the window barely shrinks the step, so momentum and keeping more coordinates per step are what close the
     * gap to Adam there; at 1% density the loss is 2-3% higher.
     */
    public static final double SPARSE_DENSITY = 0.05;
    public static final float SPARSE_MOMENTUM = 0.85f;
    /** {@code mfac-sparse}'s momentum variant, as the {@code momentum} setting spells it. */
    public static final String SPARSE_MOMENTUM_VARIANT = "nesterov";
    public static final float SPARSE_LEARNING_RATE = 0.05f;

    private Optimizers() {
    }

    /**
     * The learning rate that worked best for the optimizer family on the spiking RNN's motif task
     * (bench/results/efcp.json): M-FAC and GGT take large steps relative to Adam because lambda scales them.
     */
    public static float defaultLearningRate(final String spec) {
        final String name = spec.split(":", 2)[0].trim().toLowerCase(Locale.ROOT);
        return switch (name) {
            case "mfac-sparse" -> SPARSE_LEARNING_RATE;
            case "mfac", "mfac-sparse-no-ef", "mfac-lowrank" -> 0.1f;
            case "ggt", "ggt-sparse" -> 0.01f;
            case "sgd" -> 0.01f;
            default -> 0.01f;
        };
    }

    /**
     * @param spec name and optional {@code :key=value,...} settings (m, lambda, density, block, idx, val, mu,
     *     momentum = heavy-ball, nesterov or ema, wd, clip, warmup, eps; Adam: b1, b2, eps, decay =
     *     steps over which the rate falls as lr / sqrt(1 + t / decay))
     * @param accountant books M-FAC's window and error-feedback memory; may be null
     */
    public static Optimizer create(final String spec, final float learningRate, final MemoryAccountant accountant) {
        return create(spec, learningRate, accountant, null);
    }

    /**
     * @param shapes {rows, cols} of each parameter tensor in the flattened order, needed by
     *     {@code mfac-lowrank} (compression per matrix); may be null for the others
     */
    public static Optimizer create(final String spec, final float learningRate, final MemoryAccountant accountant,
                                   final java.util.List<int[]> shapes) {
        return create(spec, learningRate, accountant, shapes, WindowKernels.JAVA);
    }

    /**
     * @param kernels the kernels of the sparse window ({@code mfac-sparse}, {@code ggt-sparse}): the learner's
     *     backend's ({@code ArrayBackend.windowKernels()}); never null
     */
    public static Optimizer create(final String spec, final float learningRate, final MemoryAccountant accountant,
                                   final java.util.List<int[]> shapes, final WindowKernels kernels) {
        java.util.Objects.requireNonNull(kernels, "kernels");
        final int colon = spec.indexOf(':');
        final String name = (colon < 0 ? spec : spec.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        final Map<String, String> options = options(colon < 0 ? "" : spec.substring(colon + 1), spec);
        final Optimizer built = switch (name) {
            case "sgd" -> new Sgd(learningRate);
            case "adam" -> new Adam(learningRate, (float) doubleOption(options, "b1", 0.9),
                    (float) doubleOption(options, "b2", 0.999), (float) doubleOption(options, "eps", 1e-8),
                    doubleOption(options, "decay", 0));
            case "mfac" -> new MFac(mfac(options, learningRate, 1.0, false, 0f, "heavy-ball"), accountant, kernels);
            case "mfac-sparse" -> new MFac(mfac(options, learningRate, SPARSE_DENSITY, true, SPARSE_MOMENTUM,
                    SPARSE_MOMENTUM_VARIANT), accountant, kernels);
            case "mfac-sparse-no-ef" -> new MFac(mfac(options, learningRate, DEFAULT_DENSITY, false, 0f,
                    "heavy-ball"), accountant, kernels);
            case "mfac-lowrank" -> {
                final int rank = intOption(options, "rank", 4);
                final int m = intOption(options, "m", DEFAULT_WINDOW);
                final double lambda = doubleOption(options, "lambda", DEFAULT_DAMPING);
                if (shapes == null) {
                    // Shapes arrive when the learner builds it; validating the name and settings needs none.
                    yield new LowRankMFac(learningRate, m, lambda, rank, java.util.List.of(new int[] {1, 1}), 1);
                }
                yield new LowRankMFac(learningRate, m, lambda, rank, shapes, 1);
            }
            case "ggt" -> new Ggt(learningRate, intOption(options, "m", DEFAULT_WINDOW),
                    doubleOption(options, "eps", 1e-4), 1.0, false, accountant, kernels);
            case "ggt-sparse" -> new Ggt(learningRate, intOption(options, "m", DEFAULT_WINDOW),
                    doubleOption(options, "eps", 1e-2), doubleOption(options, "density", DEFAULT_DENSITY), true,
                    accountant, kernels);
            default -> throw new IllegalArgumentException("unknown optimizer '" + spec
                    + "': expected sgd, adam, mfac, mfac-sparse, mfac-sparse-no-ef, mfac-lowrank, ggt or ggt-sparse");
        };
        if (!options.isEmpty()) {
            throw new IllegalArgumentException("optimizer '" + spec + "' does not take " + options.keySet());
        }
        return built;
    }

    private static MFacSettings mfac(final Map<String, String> o, final float lr, final double defaultDensity,
                                     final boolean errorFeedback, final float defaultMomentum,
                                     final String defaultMomentumVariant) {
        final double density = doubleOption(o, "density", defaultDensity);
        final int block = intOption(o, "block", 0);
        final IndexEncoding idx = switch (stringOption(o, "idx", block > 0 ? "uint16" : "int32")) {
            case "int32" -> IndexEncoding.INT32;
            case "uint16" -> IndexEncoding.UINT16_BLOCK_RELATIVE;
            default -> throw new IllegalArgumentException("idx must be int32 or uint16");
        };
        final ValueEncoding val = switch (stringOption(o, "val", "fp32")) {
            case "fp32" -> ValueEncoding.FP32;
            case "bf16" -> ValueEncoding.BF16;
            default -> throw new IllegalArgumentException("val must be fp32 or bf16");
        };
        return new MFacSettings(lr, intOption(o, "m", DEFAULT_WINDOW), doubleOption(o, "lambda", DEFAULT_DAMPING),
                density, errorFeedback, block, idx, val, (float) doubleOption(o, "mu", defaultMomentum),
                switch (stringOption(o, "momentum", defaultMomentumVariant)) {
                    case "heavy-ball" -> MFacSettings.MomentumVariant.HEAVY_BALL;
                    case "nesterov" -> MFacSettings.MomentumVariant.NESTEROV;
                    case "ema" -> MFacSettings.MomentumVariant.EMA;
                    default -> throw new IllegalArgumentException("momentum must be heavy-ball, nesterov or ema");
                }, (float) doubleOption(o, "wd", 0),
                MFacSettings.WeightDecayVariant.DECOUPLED_SCALED, false, doubleOption(o, "clip", 0),
                intOption(o, "warmup", 0));
    }

    private static Map<String, String> options(final String text, final String spec) {
        final Map<String, String> out = new HashMap<>();
        for (final String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            final int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("optimizer setting '" + part + "' in '" + spec + "' is not key=value");
            }
            out.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
        }
        return out;
    }

    private static String stringOption(final Map<String, String> o, final String key, final String fallback) {
        final String v = o.remove(key);
        return v == null ? fallback : v.toLowerCase(Locale.ROOT);
    }

    private static int intOption(final Map<String, String> o, final String key, final int fallback) {
        final String v = o.remove(key);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("optimizer setting " + key + "=" + v + " is not an integer", e);
        }
    }

    private static double doubleOption(final Map<String, String> o, final String key, final double fallback) {
        final String v = o.remove(key);
        try {
            return v == null ? fallback : Double.parseDouble(v);
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("optimizer setting " + key + "=" + v + " is not a number", e);
        }
    }
}
