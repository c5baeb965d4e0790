package io.spillway.engine.backend.cuda.internals;

import java.lang.foreign.Arena;

/**
 * Typed launches of the kernels in {@code kernels.cu}, on the device's compute stream. Arguments are
 * device buffers and sizes; shapes follow the kernel comments. Launches are asynchronous: read results
 * through {@link CudaDevice}'s download methods, which synchronize first.
 */
public final class CudaKernels {
    private static final int THREADS = 256;

    private final CudaDevice device;

    public CudaKernels(final CudaDevice device) {
        this.device = device;
    }

    /**
     * One LIF layer step for a batch of {@code batch} rows, sparse inputs and sparse recurrent spikes; see
     * {@code lif_forward_sparse}. {@code overflow} (one int) accumulates spikes that did not fit.
     */
    public void lifForwardSparse(final int batch, final int neurons, final DeviceBuffer win, final DeviceBuffer inIds,
                                 final DeviceBuffer inVal, final DeviceBuffer inCount, final int inCap,
                                 final DeviceBuffer wrec, final DeviceBuffer spkIn, final DeviceBuffer spkInCount,
                                 final int spkCap, final DeviceBuffer bias, final DeviceBuffer vPrev,
                                 final DeviceBuffer vOut, final DeviceBuffer spkOut, final DeviceBuffer spkOutCount,
                                 final DeviceBuffer overflow, final float alpha, final float gain, final float theta) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 19).i32(neurons).pointer(win.pointer())
                    .pointer(inIds.pointer()).pointer(inVal.pointer()).pointer(inCount.pointer()).i32(inCap)
                    .pointer(wrec.pointer()).pointer(spkIn.pointer()).pointer(spkInCount.pointer()).i32(spkCap)
                    .pointer(bias.pointer()).pointer(vPrev.pointer()).pointer(vOut.pointer())
                    .pointer(spkOut.pointer()).pointer(spkOutCount.pointer()).pointer(overflow.pointer())
                    .f32(alpha).f32(gain).f32(theta);
            device.launch("lif_forward_sparse", batch, 1, Math.min(1024, roundUp(neurons, 32)), 0, a);
        }
    }

    /** out[b, n] = bias[n] + sum of rows ids[b, :count[b]] of W ([rows][n]); bias may be null. */
    public void gatherRowsSum(final int batch, final int n, final DeviceBuffer w, final DeviceBuffer ids,
                              final DeviceBuffer count, final int cap, final DeviceBuffer bias, final DeviceBuffer out) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 7).i32(n).pointer(w.pointer()).pointer(ids.pointer())
                    .pointer(count.pointer()).i32(cap).pointer(bias == null ? 0 : bias.pointer())
                    .pointer(out.pointer());
            device.launch("gather_rows_sum", ceilDiv(n, THREADS), batch, THREADS, 0, a);
        }
    }

    /** dW[ids[b,s], :] += scale * vals[b,s] * grad[b, :] in batch order (vals may be null: all ones). */
    public void scatterRowsAdd(final int batch, final int n, final DeviceBuffer dw, final DeviceBuffer ids,
                               final DeviceBuffer vals, final DeviceBuffer count, final int cap,
                               final DeviceBuffer grad, final float scale) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 9).i32(n).i32(batch).pointer(dw.pointer())
                    .pointer(ids.pointer()).pointer(vals == null ? 0 : vals.pointer()).pointer(count.pointer())
                    .i32(cap).pointer(grad.pointer()).f32(scale);
            device.launch("scatter_rows_add", ceilDiv(n, THREADS), 1, THREADS, 0, a);
        }
    }

    /** out[r] = window row r . x in fp64 for r < rows (rows at or after {@code filled} give 0). */
    public void ringDots(final RingLayout layout, final int rows, final int filled, final DeviceBuffer values,
                         final DeviceBuffer indices, final DeviceBuffer x, final DeviceBuffer out) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 9).pointer(values.pointer()).pointer(indices.pointer())
                    .i32(layout.k()).i32(layout.kb()).i32(layout.blocks()).i32(layout.blockSize()).i32(filled)
                    .pointer(x.pointer()).pointer(out.pointer());
            device.launch("ring_dots", rows, 1, THREADS, THREADS * Double.BYTES, a);
        }
    }

    /**
     * out = sum over filled rows r of alpha[r] * row r, scattered densely (d floats, every one written).
     *
     * @param alpha {@code filled} fp64 coefficients
     * @param alphaScratch at least {@code filled} floats of device memory the call overwrites (alpha as float)
     */
    public void ringWeightedSum(final RingLayout layout, final int filled, final DeviceBuffer values,
                                final DeviceBuffer indices, final DeviceBuffer alpha, final DeviceBuffer alphaScratch,
                                final DeviceBuffer out) {
        if (alphaScratch.bytes() < 4L * filled) {
            throw new IllegalArgumentException("alpha scratch holds " + alphaScratch.bytes() / 4 + " floats, need "
                    + filled);
        }
        // One thread per kept entry of a block lets the kernel batch the loads of several rows; the narrow
        // kernel's launch bounds leave registers for more rows in flight.
        final boolean narrow = layout.kb() <= 128;
        final String kernel = narrow ? "ring_weighted_sum" : "ring_weighted_sum_wide";
        final int threads = Math.min(narrow ? 128 : 1024, roundUp(layout.kb(), 32));
        final int shared = layout.blockSize() * Float.BYTES;
        if (shared > 48 * 1024) {
            device.driver().setMaxDynamicShared(device.kernels().function(kernel), shared);
        }
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs c = new LaunchArgs(arena, 3).pointer(alpha.pointer()).i32(filled)
                    .pointer(alphaScratch.pointer());
            device.launch("alpha_to_float", Math.max(1, ceilDiv(filled, THREADS)), 1, THREADS, 0, c);
            final LaunchArgs a = new LaunchArgs(arena, 10).pointer(values.pointer()).pointer(indices.pointer())
                    .i32(layout.k()).i32(layout.kb()).i32(layout.blocks()).i32(layout.blockSize())
                    .i32(layout.lastLength()).i32(filled).pointer(alphaScratch.pointer()).pointer(out.pointer());
            device.launch(kernel, layout.blocks(), 1, threads, shared, a);
        }
    }

    /**
     * Error-feedback Top-k: keeps the largest |a| per d-block in window row {@code slot} and zeroes them in
     * {@code a} (which becomes the new error).
     */
    public void topkErrorFeedback(final RingLayout layout, final DeviceBuffer a, final int slot,
                                  final DeviceBuffer values, final DeviceBuffer indices) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs args = new LaunchArgs(arena, 9).pointer(a.pointer()).i32(layout.dimension())
                    .i32(layout.kb()).i32(layout.blocks()).i32(layout.blockSize()).i32(layout.k()).i32(slot)
                    .pointer(values.pointer()).pointer(indices.pointer());
            device.launch("topk_ef", layout.blocks(), 1, 1024, 0, args);
        }
    }

    /**
     * LIF backward, elementwise part of one step (see kernels.cu): gVout = dS * surrogate(V) + alpha *
     * (1 - S) * gVnext with dS = dLoss (or lossConst when dLoss is null) + (1 - alpha) * gain * r.
     */
    public void lifBackwardElementwise(final int total, final DeviceBuffer v, final DeviceBuffer dLoss,
                                       final float lossConst, final DeviceBuffer r, final DeviceBuffer gvNext,
                                       final DeviceBuffer gvOut, final float alpha, final float gain,
                                       final float theta, final float beta) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 11).i32(total).pointer(v.pointer())
                    .pointer(dLoss == null ? 0 : dLoss.pointer()).f32(lossConst).pointer(r.pointer())
                    .pointer(gvNext.pointer()).pointer(gvOut.pointer()).f32(alpha).f32(gain).f32(theta).f32(beta);
            device.launch("lif_backward_elementwise", ceilDiv(total, THREADS), 1, THREADS, 0, a);
        }
    }

    /** out[n] += scale * sum over batch rows b (in order) of x[b, n]. */
    public void columnSumAdd(final int n, final int batch, final DeviceBuffer x, final DeviceBuffer out,
                             final float scale) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 5).i32(n).i32(batch).pointer(x.pointer())
                    .pointer(out.pointer()).f32(scale);
            device.launch("column_sum_add", ceilDiv(n, THREADS), 1, THREADS, 0, a);
        }
    }

    /** out = (V > theta) as 0/1 floats over {@code total} entries. */
    public void spikesDense(final int total, final DeviceBuffer v, final float theta, final DeviceBuffer out) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 4).i32(total).pointer(v.pointer()).f32(theta)
                    .pointer(out.pointer());
            device.launch("spikes_dense", ceilDiv(total, THREADS), 1, THREADS, 0, a);
        }
    }

    /** out[b][i] = (ids[b] == i) for a batch of event types. */
    public void oneHot(final int batch, final int width, final DeviceBuffer ids, final DeviceBuffer out) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 4).i32(batch).i32(width).pointer(ids.pointer())
                    .pointer(out.pointer());
            device.launch("one_hot", ceilDiv(batch * width, THREADS), 1, THREADS, 0, a);
        }
    }

    /** y = x over {@code n} floats: the practical bandwidth ceiling for reports. */
    public void copy(final DeviceBuffer x, final DeviceBuffer y, final long n) {
        try (Arena arena = Arena.ofConfined()) {
            final LaunchArgs a = new LaunchArgs(arena, 3).pointer(x.pointer()).pointer(y.pointer()).i64(n);
            device.launch("copy_f32", device.multiprocessors() * 8, 1, THREADS, 0, a);
        }
    }

    private static int ceilDiv(final int a, final int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(final int a, final int b) {
        return ceilDiv(a, b) * b;
    }
}
