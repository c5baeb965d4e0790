package io.spillway.engine.optim;

import io.spillway.engine.InvalidStateException;
import io.spillway.engine.StateMismatchException;
import io.spillway.engine.backend.WindowKernels;
import io.spillway.engine.internals.StateChecks;
import io.spillway.engine.memory.Allocation;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import io.spillway.engine.optim.internals.BlockLayout;
import io.spillway.engine.optim.internals.DenseWindow;
import io.spillway.engine.optim.internals.GradientWindow;
import io.spillway.engine.optim.internals.SparseWindow;
import io.spillway.engine.optim.internals.WindowAlgebra;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

/**
 * M-FAC (Frantar et al. 2021), dense or compressed with error feedback (EFCP, Modoranu et al. 2024), per
 * docs/spec-efcp-mfac.md: each step the (compressed) gradient enters a ring window of m rows, the window's
 * Gram matrix is updated by one row and column, and the step preconditions the same vector by the
 * inverse empirical Fisher {@code (lambda I + G^T G / m)^-1}. With compression the window is a sparse
 * ring buffer (values + indices, {@code m * k * (value + index bytes)}), the kept vector is
 * {@code c = TopK(e + g)} and the remainder is fed back ({@code e = e + g - c}), so nothing compression
 * drops is lost.
 *
 * <p>Numerics: window rows fp32 (or bf16), every dot product, the m x m algebra and the update accumulate
 * in fp64; the error-feedback buffer is fp64 so that {@code a = c + e} holds exactly. Deterministic on the
 * CPU. Not thread-safe.
 */
public final class MFac implements Optimizer {
    private final MFacSettings settings;
    private final boolean sparse;
    private final MemoryAccountant accountant;
    private final WindowKernels kernels;
    private final TopK topK = new TopK();
    private int dimension = -1;
    private GradientWindow window;
    private WindowAlgebra algebra;
    private BlockLayout layout;
    private int k;
    private double[] error;
    private double[] x;
    private double[] update;
    private float[] velocity;
    private int[] keptIndices;
    private float[] keptValues;
    private int kept;
    private int slot;
    private long steps;
    private Allocation windowMemory;
    private Allocation errorMemory;

    /** @param accountant books the window and the error-feedback buffer; null for none */
    public MFac(final MFacSettings settings, final MemoryAccountant accountant) {
        this(settings, accountant, WindowKernels.JAVA);
    }

    /**
     * @param accountant books the window and the error-feedback buffer; null for none
     * @param kernels the sparse window's kernels: the learner's backend's ({@code ArrayBackend.windowKernels()})
     */
    public MFac(final MFacSettings settings, final MemoryAccountant accountant, final WindowKernels kernels) {
        this(settings, accountant, settings.sparse(), kernels);
    }

    /** With {@code sparse} forced on, a density of 1 keeps every coordinate in the sparse ring buffer. */
    MFac(final MFacSettings settings, final MemoryAccountant accountant, final boolean sparse,
         final WindowKernels kernels) {
        this.settings = settings;
        this.accountant = accountant;
        this.sparse = sparse;
        this.kernels = Objects.requireNonNull(kernels, "kernels");
    }

    @Override
    public void initialise(final int d) {
        if (d <= 0) {
            throw new IllegalArgumentException("dimension must be > 0: " + d);
        }
        release();
        dimension = d;
        final int m = settings.windowSize();
        algebra = new WindowAlgebra(m, settings.damping(), settings.fixScaling());
        x = new double[d];
        update = new double[d];
        velocity = settings.momentum() > 0 ? new float[d] : null;
        if (sparse) {
            layout = settings.blockSize() > 0 ? BlockLayout.of(d, settings.blockSize(), settings.density()) : null;
            k = layout != null ? layout.entries() : Math.max(1, (int) Math.floor(settings.density() * d));
            window = new SparseWindow(m, k, layout, settings.indexEncoding(), settings.valueEncoding(), kernels);
            error = settings.errorFeedback() ? new double[d] : null;
            keptIndices = new int[k];
            keptValues = new float[k];
        } else {
            k = d;
            window = new DenseWindow(m, d);
        }
        if (accountant != null) {
            windowMemory = accountant.allocate(MemoryTier.DEVICE, window.bytes(), "optimizer window");
            errorMemory = accountant.allocate(MemoryTier.DEVICE, errorFeedbackBytes(), "error feedback");
        }
        slot = 0;
        steps = 0;
    }

    @Override
    public void step(final float[] params, final float[] gradient) {
        Adam.checkShapes(dimension, params, gradient);
        clip(gradient);
        final double[] s = insert(params, gradient);
        final double[] y = algebra.solve(s);
        for (int r = 0; r < y.length; r++) {
            y[r] = -y[r];
        }
        System.arraycopy(x, 0, update, 0, dimension);
        window.addCombination(y, update);
        apply(params);
        finishInsert();
    }

    /** Scales the gradient down to the clip norm if it is longer (norm in fp64; off at clip 0). */
    private void clip(final float[] gradient) {
        final double max = settings.clipNorm();
        if (max == 0) {
            return;
        }
        double squares = 0;
        for (int i = 0; i < dimension; i++) {
            squares += (double) gradient[i] * gradient[i];
        }
        final double norm = Math.sqrt(squares);
        if (norm > max) {
            final double scale = max / norm;
            for (int i = 0; i < dimension; i++) {
                gradient[i] = (float) (gradient[i] * scale);
            }
        }
    }

    /**
     * Puts the (compressed) gradient into the window and updates the Gram matrix; the inserted vector is
     * left in {@link #inserted()} until {@link #finishInsert()}. Returns the new row's dots with the window.
     */
    private double[] insert(final float[] params, final float[] gradient) {
        final boolean l2 = params != null && settings.weightDecay() > 0
                && settings.weightDecayVariant() == MFacSettings.WeightDecayVariant.L2;
        if (sparse) {
            compress(params, gradient, l2);
        } else {
            for (int i = 0; i < dimension; i++) {
                final float g = l2 ? gradient[i] + settings.weightDecay() * params[i] : gradient[i];
                gradient[i] = g;
                x[i] = g;
            }
            ((DenseWindow) window).write(slot, gradient);
        }
        final double[] s = new double[settings.windowSize()];
        window.dots(x, s);
        algebra.insert(slot, s);
        return s;
    }

    /** For GGT, which shares the window: inserts without the M-FAC step and returns the inserted vector. */
    double[] insertOnly(final float[] gradient) {
        Adam.checkShapes(dimension, gradient, gradient);
        insert(null, gradient);
        return x;
    }

    /** The vector last inserted (dense, fp64), valid until {@link #finishInsert()}. */
    double[] inserted() {
        return x;
    }

    /** Clears the inserted vector and advances the ring slot. */
    void finishInsert() {
        if (sparse) {
            for (int j = 0; j < kept; j++) {
                x[keptIndices[j]] = 0;
            }
        }
        slot = (slot + 1) % settings.windowSize();
        steps++;
    }

    /** a = e + g (or g without error feedback); c = TopK(a) into the window and x; e = a with c removed. */
    private void compress(final float[] params, final float[] gradient, final boolean l2) {
        final double[] a;
        if (error != null) {
            a = error;
            for (int i = 0; i < dimension; i++) {
                a[i] += l2 ? gradient[i] + (double) settings.weightDecay() * params[i] : gradient[i];
            }
        } else {
            a = update; // scratch: overwritten by the update below
            for (int i = 0; i < dimension; i++) {
                a[i] = l2 ? gradient[i] + (double) settings.weightDecay() * params[i] : gradient[i];
            }
        }
        if (layout == null) {
            kept = topK.select(a, 0, dimension, k, keptIndices, 0);
        } else {
            kept = 0;
            for (int b = 0; b < layout.blocks(); b++) {
                kept += topK.select(a, b * layout.blockSize(), layout.length(b), layout.kept(b), keptIndices,
                        b * layout.perBlock());
            }
        }
        for (int j = 0; j < kept; j++) {
            final int i = keptIndices[j];
            final float v = settings.valueEncoding().round((float) a[i]);
            keptValues[j] = v;
            x[i] = v;
            if (error != null) {
                error[i] = a[i] - v; // exact in fp64: v is a rounding of a[i]
            }
        }
        ((SparseWindow) window).write(slot, keptIndices, keptValues, kept);
    }

    private void apply(final float[] params) {
        final double inverseDamping = 1.0 / algebra.lambda();
        final float eta = settings.learningRateAt(steps + 1);
        final float mu = settings.momentum();
        final float decay = switch (settings.weightDecayVariant()) {
            case DECOUPLED_SCALED -> 1f - eta * settings.weightDecay();
            case DECOUPLED -> 1f - settings.weightDecay();
            case L2 -> 1f;
        };
        for (int i = 0; i < dimension; i++) {
            final double u = update[i] * inverseDamping;
            update[i] = u;
            float direction = (float) u;
            if (velocity != null) {
                velocity[i] = settings.momentumVariant() == MFacSettings.MomentumVariant.EMA
                        ? mu * velocity[i] + (1 - mu) * direction : mu * velocity[i] + direction;
                direction = settings.momentumVariant() == MFacSettings.MomentumVariant.NESTEROV
                        ? direction + mu * velocity[i] : velocity[i];
            }
            params[i] = params[i] * decay - eta * direction;
        }
    }

    /** The last preconditioned vector u (before momentum), in fp64; for tests and diagnostics. */
    double[] lastUpdate() {
        return update;
    }

    /** The error-feedback buffer e (null without error feedback); for tests. */
    double[] errorBuffer() {
        return error;
    }

    /** Coordinates kept in the last step, in increasing order; for tests. */
    int[] lastKept() {
        return Arrays.copyOf(keptIndices, kept);
    }

    GradientWindow window() {
        return window;
    }

    WindowAlgebra algebra() {
        return algebra;
    }

    /** Bytes of the window rows: {@code m * k * (value + index bytes)} sparse, {@code m * d * 4} dense. */
    public long windowBytes() {
        return window == null ? 0 : window.bytes();
    }

    /** Bytes of the error-feedback buffer: {@code d * 8} (fp64) with error feedback, else 0. */
    public long errorFeedbackBytes() {
        return error == null ? 0 : (long) dimension * Double.BYTES;
    }

    @Override
    public String describe() {
        final String kind = !sparse ? "mfac" : settings.errorFeedback() ? "mfac-sparse" : "mfac-sparse-no-ef";
        return kind + "(lr=" + settings.learningRate() + ", m=" + settings.windowSize() + ", lambda="
                + settings.damping() + (sparse ? ", density=" + settings.density() + ", k=" + k
                + (settings.blockSize() > 0 ? ", block=" + settings.blockSize() : "") + ", idx="
                + settings.indexEncoding() + ", val=" + settings.valueEncoding() : "")
                + (settings.momentum() > 0 ? ", mu=" + settings.momentum() + " "
                        + settings.momentumVariant().name().toLowerCase(java.util.Locale.ROOT) : "")
                + (settings.clipNorm() > 0 ? ", clip=" + settings.clipNorm() : "")
                + (settings.warmupSteps() > 0 ? ", warmup=" + settings.warmupSteps() : "") + ")";
    }

    @Override
    public long stateBytes() {
        if (window == null) {
            return 0;
        }
        return windowBytes() + errorFeedbackBytes() + algebra.bytes()
                + (velocity == null ? 0 : (long) dimension * Float.BYTES);
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void writeState(final DataOutput out) throws IOException {
        out.writeInt(dimension);
        out.writeUTF(describe());
        out.writeLong(steps);
        out.writeInt(slot);
        algebra.writeState(out);
        window.writeState(out);
        if (error != null) {
            for (final double e : error) {
                out.writeDouble(e);
            }
        }
        if (velocity != null) {
            for (final float v : velocity) {
                out.writeFloat(v);
            }
        }
    }

    /**
     * Restores what {@link #writeState} wrote, refusing a damaged state with an {@link InvalidStateException}:
     * counts that disagree (the ring slot must follow from the step count, the Gram matrix must hold as many
     * gradients), window rows with other than 0 or k entries, indices outside the dimension or out of order,
     * values that are not finite, a Gram matrix that is not the window's. The optimizer is then partly
     * overwritten; the caller rolls back or discards it.
     */
    @Override
    public void readState(final DataInput in) throws IOException {
        final int d = in.readInt();
        final String kind = in.readUTF();
        if (d != dimension || !kind.equals(describe())) {
            throw new StateMismatchException("optimizer state of " + kind + " for dimension " + d + " does not fit "
                    + describe() + " for dimension " + dimension);
        }
        final int m = settings.windowSize();
        steps = StateChecks.readNonNegative(in, "M-FAC step count");
        slot = StateChecks.readIndex(in, m, "M-FAC ring slot");
        if (slot != steps % m) {
            throw new InvalidStateException("M-FAC ring slot is " + slot + ", but " + steps + " steps put it at "
                    + steps % m);
        }
        algebra.readState(in);
        if (algebra.inserted() != steps) {
            throw new InvalidStateException("M-FAC Gram matrix counts " + algebra.inserted() + " gradients, the "
                    + "optimizer " + steps + " steps");
        }
        window.readState(in);
        checkWindow();
        if (error != null) {
            StateChecks.readFinite(in, error, "M-FAC error feedback");
            for (int i = 0; i < d; i++) {
                if (Math.abs(error[i]) > Float.MAX_VALUE) { // compressed to fp32, it would enter the window as infinity
                    throw new InvalidStateException("M-FAC error feedback[" + i + "] is beyond the fp32 range: "
                            + error[i]);
                }
            }
        }
        if (velocity != null) {
            for (int i = 0; i < d; i++) {
                velocity[i] = in.readFloat();
            }
            StateChecks.requireFinite(velocity, "M-FAC momentum");
        }
    }

    /** The restored window: rows written by the steps so far hold k entries inside the dimension, and K = G G^T. */
    private void checkWindow() throws InvalidStateException {
        final int m = settings.windowSize();
        for (int r = 0; r < m; r++) { // every row first: the dot products read them all
            if (window instanceof SparseWindow w) {
                final int expected = steps >= m || r < steps ? k : 0;
                if (w.count(r) != expected) {
                    throw new InvalidStateException("M-FAC window row " + r + " holds " + w.count(r)
                            + " entries, expected " + expected + " after " + steps + " steps");
                }
                for (int j = 0; j < w.count(r); j++) {
                    final int i = w.index(r, j);
                    if (i < 0 || i >= dimension || j > 0 && i <= w.index(r, j - 1)) {
                        throw new InvalidStateException("M-FAC window index " + i + " (row " + r + ", entry " + j
                                + ") is not strictly increasing in [0, " + dimension + ")");
                    }
                    if (!Float.isFinite(w.value(r, j))) {
                        throw new InvalidStateException("M-FAC window value (row " + r + ", entry " + j
                                + ") is not finite: " + w.value(r, j));
                    }
                }
            } else {
                StateChecks.requireFinite(((DenseWindow) window).row(r), "M-FAC window row " + r);
            }
        }
        final double[][] dots = new double[m][m];
        final double[] row = new double[dimension];
        for (int r = 0; r < m; r++) {
            if (window instanceof SparseWindow w) {
                for (int j = 0; j < w.count(r); j++) {
                    row[w.index(r, j)] = w.value(r, j);
                }
                window.dots(row, dots[r]);
                for (int j = 0; j < w.count(r); j++) {
                    row[w.index(r, j)] = 0;
                }
            } else {
                final float[] values = ((DenseWindow) window).row(r);
                for (int i = 0; i < dimension; i++) {
                    row[i] = values[i];
                }
                window.dots(row, dots[r]);
            }
        }
        algebra.requireGramOf(dots);
    }

    @Override
    public void reset() {
        if (dimension > 0) {
            initialise(dimension);
        }
    }

    @Override
    public Optimizer copy() {
        return new MFac(settings, accountant, sparse, kernels);
    }

    private void release() {
        if (windowMemory != null) {
            windowMemory.close();
            errorMemory.close();
            windowMemory = null;
            errorMemory = null;
        }
    }
}
