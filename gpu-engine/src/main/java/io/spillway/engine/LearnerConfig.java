package io.spillway.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Configuration of a {@link Learner}. Immutable; build with {@link #builder()}. Every setting has a
 * sensible default, so {@code LearnerConfig.builder().vocabularySize(16).build()} is usable.
 */
public final class LearnerConfig {
    private final int vocabularySize;
    private final int featureDimension;
    private final int hiddenSize;
    private final int layers;
    private final String optimizer;
    private final float learningRate;
    private final String backend;
    private final long deviceMemoryBytes;
    private final String checkpointSchedule;
    private final Path offChipDirectory;
    private final boolean recomputeAhead;
    private final long seed;
    private final float alpha;
    private final float gain;
    private final float surrogateBeta;
    private final float theta2;
    private final float spikeCapacity;
    private final int maxCarriedKeys;
    private final float adaptation;
    private final float adaptationDecay;
    private final String cell;
    private final float gradientClip;
    private final float thresholdMean;
    private final float pseudoDerivativeScale;
    private final float activityTarget;
    private final float activityRegularization;
    private final float candidateBias;
    private final String readout;
    private final boolean learnThresholds;
    private final String mixture;

    private LearnerConfig(final Builder b) {
        this.vocabularySize = positive("vocabularySize", b.vocabularySize);
        this.featureDimension = nonNegative("featureDimension", b.featureDimension);
        this.hiddenSize = positive("hiddenSize", b.hiddenSize);
        this.layers = positive("layers", b.layers);
        final String cellName = Objects.requireNonNull(b.cell, "cell").toLowerCase(java.util.Locale.ROOT);
        this.optimizer = b.optimizer != null ? b.optimizer : defaultOptimizer(cellName);
        final float rate = Float.isNaN(b.learningRate) ? defaultLearningRate(cellName, optimizer)
                : b.learningRate;
        if (!(rate > 0) || Float.isInfinite(rate)) {
            throw new IllegalArgumentException("learningRate must be a positive number: " + rate);
        }
        this.learningRate = rate;
        this.backend = Objects.requireNonNull(b.backend, "backend");
        if (b.deviceMemoryBytes <= 0) {
            throw new IllegalArgumentException("deviceMemoryBytes must be > 0: " + b.deviceMemoryBytes);
        }
        this.deviceMemoryBytes = b.deviceMemoryBytes;
        this.checkpointSchedule = Objects.requireNonNull(b.checkpointSchedule, "checkpointSchedule");
        this.offChipDirectory = b.offChipDirectory;
        this.recomputeAhead = b.recomputeAhead;
        this.seed = b.seed;
        if (!(b.alpha > 0 && b.alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1): " + b.alpha);
        }
        this.alpha = b.alpha;
        if (!(b.gain > 0) || Float.isInfinite(b.gain)) {
            throw new IllegalArgumentException("gain must be a positive number: " + b.gain);
        }
        this.gain = b.gain;
        if (!(b.surrogateBeta > 0) || Float.isInfinite(b.surrogateBeta)) {
            throw new IllegalArgumentException("surrogateBeta must be a positive number: " + b.surrogateBeta);
        }
        this.surrogateBeta = b.surrogateBeta;
        if (Float.isNaN(b.theta2) || b.theta2 == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("theta2 must be a number or -Infinity: " + b.theta2);
        }
        this.theta2 = b.theta2;
        if (!(b.spikeCapacity > 0 && b.spikeCapacity <= 1)) {
            throw new IllegalArgumentException("spikeCapacity must be in (0, 1]: " + b.spikeCapacity);
        }
        this.spikeCapacity = b.spikeCapacity;
        this.maxCarriedKeys = positive("maxCarriedKeys", b.maxCarriedKeys);
        if (!(b.adaptation >= 0) || Float.isInfinite(b.adaptation)) {
            throw new IllegalArgumentException("adaptation must be >= 0: " + b.adaptation);
        }
        this.adaptation = b.adaptation;
        if (!(b.adaptationDecay >= 0 && b.adaptationDecay < 1)) {
            throw new IllegalArgumentException("adaptationDecay must be in [0, 1): " + b.adaptationDecay);
        }
        this.adaptationDecay = b.adaptationDecay;
        this.cell = Objects.requireNonNull(b.cell, "cell").toLowerCase(java.util.Locale.ROOT);
        if (!CELLS.contains(cell)) {
            throw new IllegalArgumentException("unknown cell '" + b.cell + "': expected one of " + CELLS);
        }
        final float clip = Float.isNaN(b.gradientClip) ? (cell.equals("egru") ? DEFAULT_EGRU_GRADIENT_CLIP : 0f)
                : b.gradientClip;
        if (!(clip >= 0) || Float.isInfinite(clip)) {
            throw new IllegalArgumentException("gradientClip must be >= 0 (0: off): " + clip);
        }
        this.gradientClip = clip;
        if (!(b.thresholdMean > 0 && b.thresholdMean < 1)) {
            throw new IllegalArgumentException("thresholdMean must be in (0, 1): " + b.thresholdMean);
        }
        this.thresholdMean = b.thresholdMean;
        if (!(b.pseudoDerivativeScale >= 0) || Float.isInfinite(b.pseudoDerivativeScale)) {
            throw new IllegalArgumentException("pseudoDerivativeScale must be >= 0: " + b.pseudoDerivativeScale);
        }
        this.pseudoDerivativeScale = b.pseudoDerivativeScale;
        if (!(b.activityTarget >= 0 && b.activityTarget <= 1)) {
            throw new IllegalArgumentException("activityTarget must be in [0, 1]: " + b.activityTarget);
        }
        this.activityTarget = b.activityTarget;
        if (!(b.activityRegularization >= 0) || Float.isInfinite(b.activityRegularization)) {
            throw new IllegalArgumentException("activityRegularization must be >= 0: " + b.activityRegularization);
        }
        this.activityRegularization = b.activityRegularization;
        if (!Float.isFinite(b.candidateBias)) {
            throw new IllegalArgumentException("candidateBias must be finite: " + b.candidateBias);
        }
        this.candidateBias = b.candidateBias;
        this.readout = Objects.requireNonNull(b.readout, "readout").toLowerCase(java.util.Locale.ROOT);
        if (!READOUTS.contains(readout)) {
            throw new IllegalArgumentException("unknown readout '" + b.readout + "': expected one of " + READOUTS);
        }
        this.learnThresholds = b.learnThresholds;
        this.mixture = Objects.requireNonNull(b.mixture, "mixture").strip().toLowerCase(java.util.Locale.ROOT);
        io.spillway.engine.mixture.MixtureSpec.parse(mixture, vocabularySize); // refuses a malformed one now
    }

    /** The cell a learner runs unless told otherwise. */
    public static final String DEFAULT_CELL = "egru";
    /** EGRU defaults (see the accessors and {@code docs/learner.md} for how they were chosen). */
    public static final float DEFAULT_THRESHOLD_MEAN = 0.2f;
    public static final float DEFAULT_PSEUDO_DERIVATIVE_SCALE = 2f;
    public static final float DEFAULT_ACTIVITY_TARGET = 0.15f;
    public static final float DEFAULT_ACTIVITY_REGULARIZATION = 1f;
    public static final float DEFAULT_CANDIDATE_BIAS = -0.5f;
    public static final String DEFAULT_READOUT = "cell";
    /** The EGRU's default global gradient-norm clip (LIF: none). */
    public static final float DEFAULT_EGRU_GRADIENT_CLIP = 0.3f;
    /** The EGRU's default learning rate with Adam. */
    public static final float DEFAULT_EGRU_ADAM_LEARNING_RATE = 0.04f;
    /** Steps over which the EGRU's default Adam rate falls as {@code 1/sqrt(1 + t/decay)}. */
    public static final int DEFAULT_EGRU_ADAM_DECAY_STEPS = 100;
    /** The recurrent cells a learner can run. */
    public static final java.util.List<String> CELLS = java.util.List.of("lif", "egru");
    /** What the EGRU readout can read. */
    public static final java.util.List<String> READOUTS = java.util.List.of("cell", "events");

    /**
     * The optimizer a cell trains with unless told otherwise: for the EGRU Adam whose rate decays over the steps
     * ({@code adam:decay=}{@value #DEFAULT_EGRU_ADAM_DECAY_STEPS}; a constant rate is tuned for one stream length
     * only, and sparse M-FAC trailed Adam by far on the real streams, see {@code docs/learner.md}), sparse M-FAC
     * (EFCP) for LIF.
     */
    public static String defaultOptimizer(final String cell) {
        return "egru".equals(cell) ? "adam:decay=" + DEFAULT_EGRU_ADAM_DECAY_STEPS : "mfac-sparse";
    }

    /**
     * The learning rate unless told otherwise: for the EGRU with Adam {@link #DEFAULT_EGRU_ADAM_LEARNING_RATE}
     * (with few optimizer steps early in a stream a high rate pays, clipped) at every width (above hidden 128 the
     * cell scales the rate of its matrices from hidden units down, see
     * {@link io.spillway.engine.model.egru.EgruCell#learningRateScales}); else the optimizer's own default.
     */
    public static float defaultLearningRate(final String cell, final String optimizer) {
        if ("egru".equals(cell) && optimizer.split(":", 2)[0].trim().equalsIgnoreCase("adam")) {
            return DEFAULT_EGRU_ADAM_LEARNING_RATE;
        }
        return io.spillway.engine.optim.Optimizers.defaultLearningRate(optimizer);
    }

    private static int positive(final String name, final int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0: " + v);
        }
        return v;
    }

    private static int nonNegative(final String name, final int v) {
        if (v < 0) {
            throw new IllegalArgumentException(name + " must be >= 0: " + v);
        }
        return v;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Number of event types; the readout predicts one of them. */
    public int vocabularySize() {
        return vocabularySize;
    }

    /** Dimension of the sparse feature vectors (0: event type only). */
    public int featureDimension() {
        return featureDimension;
    }

    /** Neurons per recurrent layer. */
    public int hiddenSize() {
        return hiddenSize;
    }

    public int layers() {
        return layers;
    }

    /** Optimizer name: {@code sgd}, {@code adam}, {@code mfac}, {@code mfac-sparse}, ... */
    public String optimizer() {
        return optimizer;
    }

    public float learningRate() {
        return learningRate;
    }

    /** {@code cpu}, {@code cuda} or {@code auto}. */
    public String backend() {
        return backend;
    }

    /** Device ("local") memory budget in bytes; the checkpoint planner fits the schedule into it. */
    public long deviceMemoryBytes() {
        return deviceMemoryBytes;
    }

    /** {@code auto} (the planner decides), {@code bptt}, {@code uniform}, {@code remote}, {@code double}. */
    public String checkpointSchedule() {
        return checkpointSchedule;
    }

    /** Folder for memory-mapped off-chip stores; null means off-heap host memory. */
    public Path offChipDirectory() {
        return offChipDirectory;
    }

    /**
     * Whether checkpointed windows recompute the next local sub-segment on a second thread while the current
     * one is back-propagated (same gradients; uses a second core and, where the device budget has room, one
     * more sub-segment of tapes). Default: on when the JVM sees more than one processor.
     */
    public boolean recomputeAhead() {
        return recomputeAhead;
    }

    public long seed() {
        return seed;
    }

    /** Membrane leak per step, in (0, 1); default 0.9. */
    public float alpha() {
        return alpha;
    }

    /** Input gain g; the membrane moves by {@code (1 - alpha) * g} per unit of input current. Default 10. */
    public float gain() {
        return gain;
    }

    /** Surrogate sharpness beta in {@code dS/dV = 1 / (beta |V - 1| + 1)^2}; default 10. */
    public float surrogateBeta() {
        return surrogateBeta;
    }

    /** Surrogate gate: no gradient where {@code V <= theta2}; default negative infinity (no gate). */
    public float theta2() {
        return theta2;
    }

    /**
     * Planned fraction of neurons spiking per step (sizes spike-id buffers; more spikes grow them and are
     * counted, never dropped). Default 0.1.
     */
    public float spikeCapacity() {
        return spikeCapacity;
    }

    /**
     * Most keys whose recurrent state the learner carries between chunks; the least recently trained key is
     * evicted beyond it and restarts from a zero state. Default 100,000.
     */
    public int maxCarriedKeys() {
        return maxCarriedKeys;
    }

    /**
     * Adaptive-threshold strength gamma: the threshold is {@code 1 + gamma * a_t}, {@code a_t} a decaying count of
     * the neuron's own spikes. Default 0 (plain LIF).
     */
    public float adaptation() {
        return adaptation;
    }

    /** Per-step decay rho of the adaptation variable, in [0, 1); default 0.95. */
    public float adaptationDecay() {
        return adaptationDecay;
    }

    /** The recurrent cell: {@code lif} (spiking) or {@code egru} (event-based GRU). */
    public String cell() {
        return cell;
    }

    /** Global L2 norm the gradient is scaled down to before the optimizer step; 0 (default) turns it off. */
    public float gradientClip() {
        return gradientClip;
    }

    /** EGRU: mean of the initial per-unit thresholds (Beta-distributed), in (0, 1). */
    public float thresholdMean() {
        return thresholdMean;
    }

    /** EGRU: kappa of the pseudo-derivative {@code kappa max(0, 1 - kappa |c - theta|)}. */
    public float pseudoDerivativeScale() {
        return pseudoDerivativeScale;
    }

    /** EGRU: the fraction of emitting units per step the activity regulariser holds the layers near. */
    public float activityTarget() {
        return activityTarget;
    }

    /** EGRU: strength lambda of the activity regulariser (0: off). */
    public float activityRegularization() {
        return activityRegularization;
    }

    /** EGRU: initial input bias of the candidate gate (negative: cell states start below threshold). */
    public float candidateBias() {
        return candidateBias;
    }

    /** EGRU: what the readout reads from every layer, {@code cell} (dense c-hat) or {@code events} (y). */
    public String readout() {
        return readout;
    }

    /** EGRU: whether the thresholds are trained (in [0, 1]) or frozen at their initial values. */
    public boolean learnThresholds() {
        return learnThresholds;
    }

    /**
     * What the published predictions mix the network's with: {@code context} (the default, an adaptive context
     * model; settings as in {@code context:order=6,pairs=2097152,rate=0.02}) or {@code none}
     * ({@link io.spillway.engine.mixture.MixtureSpec}). The network trains the same either way.
     */
    public String mixture() {
        return mixture;
    }

    /** {@link #mixture()}, read. */
    public io.spillway.engine.mixture.MixtureSpec mixtureSpec() {
        return io.spillway.engine.mixture.MixtureSpec.parse(mixture, vocabularySize);
    }

    public Builder toBuilder() {
        final Builder b = new Builder();
        b.vocabularySize = vocabularySize;
        b.featureDimension = featureDimension;
        b.hiddenSize = hiddenSize;
        b.layers = layers;
        b.optimizer = optimizer;
        b.learningRate = learningRate;
        b.backend = backend;
        b.deviceMemoryBytes = deviceMemoryBytes;
        b.checkpointSchedule = checkpointSchedule;
        b.offChipDirectory = offChipDirectory;
        b.recomputeAhead = recomputeAhead;
        b.seed = seed;
        b.alpha = alpha;
        b.gain = gain;
        b.surrogateBeta = surrogateBeta;
        b.theta2 = theta2;
        b.spikeCapacity = spikeCapacity;
        b.maxCarriedKeys = maxCarriedKeys;
        b.adaptation = adaptation;
        b.adaptationDecay = adaptationDecay;
        b.cell = cell;
        b.gradientClip = gradientClip;
        b.thresholdMean = thresholdMean;
        b.pseudoDerivativeScale = pseudoDerivativeScale;
        b.activityTarget = activityTarget;
        b.activityRegularization = activityRegularization;
        b.candidateBias = candidateBias;
        b.readout = readout;
        b.learnThresholds = learnThresholds;
        b.mixture = mixture;
        return b;
    }

    /**
     * Every setting by name (the accessor's name) as text, in declaration order: what a snapshot records of the
     * configuration it was made with (docs/formats.md), and what {@link #toString()} shows. Numbers are written as
     * {@link String#valueOf} writes them, so a float reads back to the same bits.
     */
    public java.util.Map<String, String> settings() {
        final java.util.Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put("vocabularySize", String.valueOf(vocabularySize));
        s.put("featureDimension", String.valueOf(featureDimension));
        s.put("hiddenSize", String.valueOf(hiddenSize));
        s.put("layers", String.valueOf(layers));
        s.put("optimizer", String.valueOf(optimizer));
        s.put("learningRate", String.valueOf(learningRate));
        s.put("backend", String.valueOf(backend));
        s.put("deviceMemoryBytes", String.valueOf(deviceMemoryBytes));
        s.put("checkpointSchedule", String.valueOf(checkpointSchedule));
        s.put("offChipDirectory", String.valueOf(offChipDirectory));
        s.put("recomputeAhead", String.valueOf(recomputeAhead));
        s.put("seed", String.valueOf(seed));
        s.put("alpha", String.valueOf(alpha));
        s.put("gain", String.valueOf(gain));
        s.put("surrogateBeta", String.valueOf(surrogateBeta));
        s.put("theta2", String.valueOf(theta2));
        s.put("spikeCapacity", String.valueOf(spikeCapacity));
        s.put("maxCarriedKeys", String.valueOf(maxCarriedKeys));
        s.put("adaptation", String.valueOf(adaptation));
        s.put("adaptationDecay", String.valueOf(adaptationDecay));
        s.put("cell", String.valueOf(cell));
        s.put("gradientClip", String.valueOf(gradientClip));
        s.put("thresholdMean", String.valueOf(thresholdMean));
        s.put("pseudoDerivativeScale", String.valueOf(pseudoDerivativeScale));
        s.put("activityTarget", String.valueOf(activityTarget));
        s.put("activityRegularization", String.valueOf(activityRegularization));
        s.put("candidateBias", String.valueOf(candidateBias));
        s.put("readout", String.valueOf(readout));
        s.put("learnThresholds", String.valueOf(learnThresholds));
        s.put("mixture", mixture);
        return java.util.Collections.unmodifiableMap(s);
    }

    /**
     * Settings a model's state cannot be carried across: its shape, its cell and its optimizer (whose state is laid
     * out by them). A snapshot made with other values is always refused.
     */
    public static final java.util.Set<String> FIXED_SETTINGS = java.util.Set.of("vocabularySize", "featureDimension",
            "hiddenSize", "layers", "cell", "readout", "optimizer");

    /**
     * Settings of how the learner runs rather than what it learns: the backend and its memory, the checkpoint
     * schedule (recomputation gives the same gradients), the carried-key capacity (a smaller one evicts the least
     * recent keys, as training would) and the seed (the state holds the random generator's position). They may
     * change between runs of one model.
     */
    public static final java.util.Set<String> EXECUTION_SETTINGS = java.util.Set.of("backend", "deviceMemoryBytes",
            "checkpointSchedule", "offChipDirectory", "recomputeAhead", "maxCarriedKeys", "seed");

    /** Every setting, as {@link #settings()} names them. */
    @Override
    public String toString() {
        final StringBuilder b = new StringBuilder("LearnerConfig[");
        settings().forEach((name, value) -> b.append(b.length() > 14 ? ", " : "").append(name).append('=').append(value));
        return b.append(']').toString();
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private int vocabularySize = 16;
        private int featureDimension = 0;
        private int hiddenSize = 128;
        private int layers = 1;
        /** Null: the cell's default ({@link #defaultOptimizer}). */
        private String optimizer;
        /** NaN: the cell's and optimizer's default ({@link #defaultLearningRate}). */
        private float learningRate = Float.NaN;
        private String backend = "auto";
        private long deviceMemoryBytes = 512L << 20;
        private String checkpointSchedule = "auto";
        private Path offChipDirectory;
        private boolean recomputeAhead = Runtime.getRuntime().availableProcessors() > 1;
        private long seed = 42L;
        private float alpha = 0.9f;
        private float gain = 10f;
        private float surrogateBeta = 10f;
        private float theta2 = Float.NEGATIVE_INFINITY;
        private float spikeCapacity = 0.1f;
        private int maxCarriedKeys = 100_000;
        private float adaptation = 0f;
        private float adaptationDecay = 0.95f;
        private String cell = DEFAULT_CELL;
        /** NaN: the cell's default (EGRU {@link #DEFAULT_EGRU_GRADIENT_CLIP}, LIF none). */
        private float gradientClip = Float.NaN;
        private float thresholdMean = DEFAULT_THRESHOLD_MEAN;
        private float pseudoDerivativeScale = DEFAULT_PSEUDO_DERIVATIVE_SCALE;
        private float activityTarget = DEFAULT_ACTIVITY_TARGET;
        private float activityRegularization = DEFAULT_ACTIVITY_REGULARIZATION;
        private float candidateBias = DEFAULT_CANDIDATE_BIAS;
        private String readout = DEFAULT_READOUT;
        private boolean learnThresholds = false;
        private String mixture = io.spillway.engine.mixture.MixtureSpec.DEFAULT;

        private Builder() {
        }

        public Builder cell(final String v) {
            cell = v;
            return this;
        }

        public Builder gradientClip(final float v) {
            gradientClip = v;
            return this;
        }

        public Builder thresholdMean(final float v) {
            thresholdMean = v;
            return this;
        }

        public Builder pseudoDerivativeScale(final float v) {
            pseudoDerivativeScale = v;
            return this;
        }

        public Builder activityTarget(final float v) {
            activityTarget = v;
            return this;
        }

        public Builder activityRegularization(final float v) {
            activityRegularization = v;
            return this;
        }

        public Builder candidateBias(final float v) {
            candidateBias = v;
            return this;
        }

        public Builder readout(final String v) {
            readout = v;
            return this;
        }

        public Builder mixture(final String v) {
            mixture = v;
            return this;
        }

        public Builder learnThresholds(final boolean v) {
            learnThresholds = v;
            return this;
        }

        public Builder adaptation(final float v) {
            adaptation = v;
            return this;
        }

        public Builder adaptationDecay(final float v) {
            adaptationDecay = v;
            return this;
        }

        public Builder alpha(final float v) {
            alpha = v;
            return this;
        }

        public Builder gain(final float v) {
            gain = v;
            return this;
        }

        public Builder surrogateBeta(final float v) {
            surrogateBeta = v;
            return this;
        }

        public Builder theta2(final float v) {
            theta2 = v;
            return this;
        }

        public Builder spikeCapacity(final float v) {
            spikeCapacity = v;
            return this;
        }

        public Builder maxCarriedKeys(final int v) {
            maxCarriedKeys = v;
            return this;
        }

        public Builder vocabularySize(final int v) {
            vocabularySize = v;
            return this;
        }

        public Builder featureDimension(final int v) {
            featureDimension = v;
            return this;
        }

        public Builder hiddenSize(final int v) {
            hiddenSize = v;
            return this;
        }

        public Builder layers(final int v) {
            layers = v;
            return this;
        }

        public Builder optimizer(final String v) {
            optimizer = v;
            return this;
        }

        public Builder learningRate(final float v) {
            learningRate = v;
            return this;
        }

        public Builder backend(final String v) {
            backend = v;
            return this;
        }

        public Builder deviceMemoryBytes(final long v) {
            deviceMemoryBytes = v;
            return this;
        }

        public Builder checkpointSchedule(final String v) {
            checkpointSchedule = v;
            return this;
        }

        public Builder offChipDirectory(final Path v) {
            offChipDirectory = v;
            return this;
        }

        public Builder recomputeAhead(final boolean v) {
            recomputeAhead = v;
            return this;
        }

        public Builder seed(final long v) {
            seed = v;
            return this;
        }

        public LearnerConfig build() {
            return new LearnerConfig(this);
        }
    }
}
