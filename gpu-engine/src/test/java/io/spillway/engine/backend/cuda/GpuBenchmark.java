package io.spillway.engine.backend.cuda;

import io.spillway.engine.backend.cuda.internals.CudaDevice;
import io.spillway.engine.backend.cuda.internals.CudaKernels;
import io.spillway.engine.backend.cuda.internals.DeviceBuffer;
import io.spillway.engine.backend.cuda.internals.RingLayout;
import io.spillway.engine.memory.MemoryAccountant;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * GPU benchmark of the CUDA kernels (run by gpu-engine/scripts/gpu-check.sh on a machine with a GPU):
 * the sparse ring buffer's bandwidth against the device's measured copy bandwidth, EF Top-k, and the
 * sparse LIF forward step at hidden 1024, batch 64. Times come from CUDA events, median of repeats
 * after warm-up. Writes flat JSON figures to the path given as the first argument.
 */
public final class GpuBenchmark {
    private static final int REPEATS = 30;

    private final CudaDevice device;
    private final CudaKernels kernels;
    private final SplittableRandom random = new SplittableRandom(42);
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    private GpuBenchmark(final CudaBackend backend) {
        this.device = backend.device();
        this.kernels = backend.kernels();
    }

    public static void main(final String[] args) throws IOException {
        final Path out = Path.of(args.length > 0 ? args[0] : "gpu-kernels.json");
        final Map<String, Object> figures = new LinkedHashMap<>();
        try (CudaBackend backend = CudaBackend.open(new MemoryAccountant())) {
            final GpuBenchmark bench = new GpuBenchmark(backend);
            figures.put("gpu_name", backend.device().name());
            figures.put("gpu_description", backend.deviceDescription());
            bench.run(figures);
        }
        final StringBuilder json = new StringBuilder("{\n");
        figures.forEach((k, v) -> json.append("  \"").append(k).append("\": ")
                .append(v instanceof String s ? "\"" + s.replace("\"", "'") + "\"" : v).append(",\n"));
        json.setLength(json.length() - 2);
        json.append("\n}\n");
        Files.writeString(out, json);
        System.out.print(json);
    }

    private void run(final Map<String, Object> figures) {
        // Copy ceiling: 1 GiB read + 1 GiB written.
        final long n = 1L << 28;
        final DeviceBuffer x = device.allocate(4 * n, "bench");
        final DeviceBuffer y = device.allocate(4 * n, "bench");
        device.fill(x, 0x3f800000);
        final double copyMs = medianMillis(i -> kernels.copy(x, y, n));
        final double copyBandwidth = 8.0 * n / (copyMs * 1e-3);
        figures.put("copy_bandwidth_gb_s", round(copyBandwidth / 1e9));
        x.close();
        y.close();

        // Sparse ring buffer, d = 10M, m = 1024, density 1%, 16-bit block-relative indices, fp32 values,
        // at three block sizes; the headline figure is the best of them (the block size is a setting).
        double best = 0;
        for (final int blockSize : new int[] {2048, 8192, 32768}) {
            best = Math.max(best, ring(figures, blockSize, copyBandwidth));
        }
        figures.put("ringbuffer_bandwidth_fraction", round(best));

        lifForward(figures);
        buffers.forEach(DeviceBuffer::close);
    }

    private double ring(final Map<String, Object> figures, final int blockSize, final double copyBandwidth) {
        final int d = 10_000_000;
        final int m = 1024;
        final RingLayout layout = RingLayout.of(d, blockSize, 0.01);
        final String p = "ringbuffer_B" + blockSize + "_";
        try (DeviceBuffer values = device.allocate(4L * m * layout.k(), "window values");
             DeviceBuffer indices = device.allocate(2L * m * layout.k() + 4, "window indices");
             DeviceBuffer acc = upload(gaussian(d));
             DeviceBuffer grad = upload(gaussian(d));
             DeviceBuffer xv = upload(gaussian(d));
             DeviceBuffer dots = device.allocate(8L * m, "dots");
             DeviceBuffer alpha = device.allocate(8L * m, "alpha");
             DeviceBuffer sum = device.allocate(4L * d, "sum")) {
            // Fill every window row with real Top-k selections.
            for (int r = 0; r < m; r++) {
                device.driver().copyDeviceToDevice(acc.pointer(), grad.pointer(), 4L * d);
                kernels.topkErrorFeedback(layout, acc, r, values, indices);
            }
            final double topkMs = medianMillis(i -> kernels.topkErrorFeedback(layout, acc, i % m, values, indices));
            final double dotsMs = medianMillis(i -> kernels.ringDots(layout, m, m, values, indices, xv, dots));
            device.fill(alpha, 0x3f800000);
            final double sumMs = medianMillis(i -> kernels.ringWeightedSum(layout, m, values, indices, alpha, sum));
            final double windowBytes = (double) m * layout.k() * 6;
            final double bytes = windowBytes + 4.0 * d;
            final double fraction = 2 * bytes / ((dotsMs + sumMs) * 1e-3) / copyBandwidth;
            figures.put("ringbuffer_d", d);
            figures.put("ringbuffer_m", m);
            figures.put(p + "k", layout.k());
            figures.put(p + "window_bytes", (long) windowBytes);
            figures.put(p + "dots_ms", round(dotsMs));
            figures.put(p + "weighted_sum_ms", round(sumMs));
            figures.put(p + "dots_bandwidth_fraction", round(bytes / (dotsMs * 1e-3) / copyBandwidth));
            figures.put(p + "weighted_sum_bandwidth_fraction", round(bytes / (sumMs * 1e-3) / copyBandwidth));
            figures.put(p + "bandwidth_fraction", round(fraction));
            figures.put(p + "topk_ef_ms", round(topkMs));
            return fraction;
        }
    }

    private void lifForward(final Map<String, Object> figures) {
        final int batch = 64;
        final int n = 1024;
        final int inputs = 64;
        final int inCap = 1;
        final float theta = 1f;
        // Weights scaled so that about 5% of the neurons fire per step at steady state.
        final DeviceBuffer win = upload(scaled(gaussian(inputs * n), 0.4f));
        final DeviceBuffer wrec = upload(scaled(gaussian(n * n), 0.06f));
        final DeviceBuffer bias = upload(scaled(gaussian(n), 0.08f));
        final DeviceBuffer[] v = {upload(new float[batch * n]), upload(new float[batch * n])};
        final DeviceBuffer[] spk = {device.allocate(4L * batch * n, "spikes"), device.allocate(4L * batch * n, "spikes")};
        final DeviceBuffer[] cnt = {upload(new int[batch]), upload(new int[batch])};
        final DeviceBuffer overflow = upload(new int[1]);
        final int steps = 256;
        final DeviceBuffer[] inIds = new DeviceBuffer[steps];
        final DeviceBuffer inVal = upload(filled(batch, 1f));
        final DeviceBuffer inCount = upload(new int[batch]);
        device.upload(inCount, filledInts(batch, 1));
        for (int t = 0; t < steps; t++) {
            inIds[t] = upload(random.ints(batch, 0, inputs).toArray());
        }
        final long[] spikeSum = {0};
        final IntConsumer step = t -> {
            final int cur = t % 2;
            final int nxt = 1 - cur;
            kernels.lifForwardSparse(batch, n, win, inIds[t % steps], inVal, inCount, inCap, wrec, spk[cur], cnt[cur], n,
                    bias, v[cur], v[nxt], spk[nxt], cnt[nxt], overflow, 0.9f, 10f, theta);
        };
        for (int t = 0; t < steps; t++) {
            step.accept(t);
        }
        device.synchronize();
        for (int t = 0; t < 64; t++) {
            step.accept(t);
            spikeSum[0] += Arrays.stream(device.downloadInts(cnt[(t + 1) % 2], batch)).sum();
        }
        final double activity = spikeSum[0] / (64.0 * batch * n);
        final double msPer256 = medianMillis(i -> {
            for (int t = 0; t < steps; t++) {
                step.accept(t);
            }
        });
        figures.put("lif_hidden", n);
        figures.put("lif_batch", batch);
        figures.put("lif_activity", round(activity));
        figures.put("steps_per_s_forward_sparse", round(steps / (msPer256 * 1e-3)));
        buffers.addAll(List.of(win, wrec, bias, v[0], v[1], spk[0], spk[1], cnt[0], cnt[1], overflow, inVal, inCount));
        buffers.addAll(Arrays.asList(inIds));
    }

    private double medianMillis(final IntConsumer work) {
        final MemorySegment start = device.driver().createEvent();
        final MemorySegment end = device.driver().createEvent();
        for (int i = 0; i < 3; i++) {
            work.accept(i);
        }
        final double[] ms = new double[REPEATS];
        for (int i = 0; i < REPEATS; i++) {
            device.driver().record(start, device.computeStream());
            work.accept(i);
            device.driver().record(end, device.computeStream());
            device.driver().synchronizeEvent(end);
            ms[i] = device.driver().elapsedMillis(start, end);
        }
        Arrays.sort(ms);
        return ms[REPEATS / 2];
    }

    private float[] gaussian(final int n) {
        final float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static float[] scaled(final float[] x, final float s) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= s;
        }
        return x;
    }

    private static float[] filled(final int n, final float value) {
        final float[] x = new float[n];
        Arrays.fill(x, value);
        return x;
    }

    private static int[] filledInts(final int n, final int value) {
        final int[] x = new int[n];
        Arrays.fill(x, value);
        return x;
    }

    private DeviceBuffer upload(final float[] data) {
        final DeviceBuffer b = device.allocate(4L * data.length, "bench");
        device.upload(b, data);
        return b;
    }

    private DeviceBuffer upload(final int[] data) {
        final DeviceBuffer b = device.allocate(4L * data.length, "bench");
        device.upload(b, data);
        return b;
    }

    private static double round(final double x) {
        return Math.round(x * 10_000) / 10_000.0;
    }
}
