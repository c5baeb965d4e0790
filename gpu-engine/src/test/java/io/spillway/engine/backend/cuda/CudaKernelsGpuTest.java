package io.spillway.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spillway.engine.backend.Backends;
import io.spillway.engine.backend.cuda.internals.CudaDevice;
import io.spillway.engine.backend.cuda.internals.CudaKernels;
import io.spillway.engine.backend.cuda.internals.DeviceBuffer;
import io.spillway.engine.backend.cuda.internals.PinnedBuffer;
import io.spillway.engine.backend.cuda.internals.RingLayout;
import io.spillway.engine.memory.MemoryAccountant;
import io.spillway.engine.memory.MemoryTier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity of every CUDA kernel with a plain-Java reference that runs the same operations in the same
 * order. Kernels are compiled without FMA contraction, so the float results are expected bit for bit;
 * fp64 dot products reduce in a tree on the GPU and are compared with a relative tolerance.
 * Skipped, with the reason, where no usable GPU is found (CI).
 */
@Tag("gpu")
class CudaKernelsGpuTest {
    private static final int NAN_BITS = 0x7fc00000;
    private static MemoryAccountant accountant;
    private static CudaDevice device;
    private static CudaKernels kernels;
    private final SplittableRandom random = new SplittableRandom(7);
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    private static Backends.Probe probe;

    @BeforeAll
    static void openGpu() {
        probe = Backends.probe("cuda");
        if (!probe.available()) {
            System.out.println("CUDA tests skipped: no usable GPU: " + probe.detail());
            return;
        }
        accountant = new MemoryAccountant();
        device = CudaDevice.open(accountant);
        kernels = new CudaKernels(device);
        System.out.println("CUDA device: " + device.describe());
    }

    @AfterAll
    static void closeGpu() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void lifForwardMatchesReferenceBitForBit() {
        final int batch = 5;
        final int inputs = 300;
        final int n = 1500; // not a multiple of the block size: several chunks, a ragged tail
        final int inCap = 8;
        final int spkCap = n;
        final float alpha = 0.9f;
        final float gain = 10f;
        final float theta = 1f;
        final float[] win = gaussian(inputs * n, 0.05f);
        final float[] wrec = gaussian(n * n, 0.02f);
        final float[] bias = gaussian(n, 0.05f);
        final float[] vPrev = gaussian(batch * n, 0.8f);
        final int[] inIds = new int[batch * inCap];
        final float[] inVal = new float[batch * inCap];
        final int[] inCount = new int[batch];
        final int[] spkIn = new int[batch * spkCap];
        final int[] spkInCount = new int[batch];
        for (int b = 0; b < batch; b++) {
            inCount[b] = b % 2 == 0 ? inCap : 3;
            for (int s = 0; s < inCount[b]; s++) {
                inIds[b * inCap + s] = random.nextInt(inputs);
                inVal[b * inCap + s] = (float) random.nextDouble(0.5, 2.0);
            }
            int c = 0;
            for (int j = 0; j < n; j++) {
                if (vPrev[b * n + j] > theta) {
                    spkIn[b * spkCap + c++] = j;
                }
            }
            spkInCount[b] = c;
        }
        final float[] vExpected = new float[batch * n];
        final List<int[]> spikesExpected = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            final int[] fired = new int[n];
            int c = 0;
            for (int j = 0; j < n; j++) {
                float current = bias[j];
                for (int s = 0; s < inCount[b]; s++) {
                    current = current + inVal[b * inCap + s] * win[inIds[b * inCap + s] * n + j];
                }
                for (int s = 0; s < spkInCount[b]; s++) {
                    current = current + wrec[spkIn[b * spkCap + s] * n + j];
                }
                final float prev = vPrev[b * n + j];
                final float kept = prev > theta ? 0f : prev;
                final float v = alpha * kept + (1f - alpha) * gain * current;
                vExpected[b * n + j] = v;
                if (v > theta) {
                    fired[c++] = j;
                }
            }
            spikesExpected.add(Arrays.copyOf(fired, c));
        }

        final DeviceBuffer vOut = buffer(batch * n);
        final DeviceBuffer spkOut = buffer(batch * spkCap);
        final DeviceBuffer spkOutCount = buffer(batch);
        final DeviceBuffer overflow = buffer(1);
        device.fill(vOut, NAN_BITS);
        device.fill(overflow, 0);
        kernels.lifForwardSparse(batch, n, upload(win), upload(inIds), upload(inVal), upload(inCount), inCap,
                upload(wrec), upload(spkIn), upload(spkInCount), spkCap, upload(bias), upload(vPrev), vOut, spkOut,
                spkOutCount, overflow, alpha, gain, theta);
        final float[] vActual = device.downloadFloats(vOut, batch * n);
        final int[] counts = device.downloadInts(spkOutCount, batch);
        final int[] ids = device.downloadInts(spkOut, batch * spkCap);
        assertThat(vActual).containsExactly(vExpected);
        for (int b = 0; b < batch; b++) {
            assertThat(Arrays.copyOfRange(ids, b * spkCap, b * spkCap + counts[b])).containsExactly(spikesExpected.get(b));
        }
        assertThat(device.downloadInts(overflow, 1)[0]).isZero();
        final double activity = Arrays.stream(counts).sum() / (double) (batch * n);
        assertThat(activity).as("the test must exercise spiking").isBetween(0.001, 0.9);
    }

    @Test
    void lifForwardCountsOverflowInsteadOfDroppingSilently() {
        final int n = 64;
        final float[] bias = new float[n];
        Arrays.fill(bias, 50f); // every neuron fires
        final int cap = 10;
        final DeviceBuffer spkOut = buffer(cap);
        final DeviceBuffer count = buffer(1);
        final DeviceBuffer overflow = buffer(1);
        device.fill(overflow, 0);
        kernels.lifForwardSparse(1, n, upload(new float[n]), upload(new int[1]), upload(new float[1]),
                upload(new int[] {0}), 1, upload(new float[n * n]), upload(new int[cap]), upload(new int[] {0}), cap,
                upload(bias), upload(new float[n]), buffer(n), spkOut, count, overflow, 0.9f, 10f, 1f);
        assertThat(device.downloadInts(count, 1)[0]).isEqualTo(cap);
        assertThat(device.downloadInts(overflow, 1)[0]).isEqualTo(n - cap);
        assertThat(device.downloadInts(spkOut, cap)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    }

    @Test
    void gatherAndScatterRowsMatchReference() {
        final int batch = 4;
        final int rows = 50;
        final int n = 777;
        final int cap = 6;
        final float[] w = gaussian(rows * n, 1f);
        final float[] bias = gaussian(n, 1f);
        final int[] ids = new int[batch * cap];
        final float[] vals = gaussian(batch * cap, 1f);
        final int[] count = {6, 0, 3, 6};
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(5); // many repeats across the batch: the scatter must not race
        }
        final float[] expected = new float[batch * n];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < n; j++) {
                float acc = bias[j];
                for (int s = 0; s < count[b]; s++) {
                    acc = acc + w[ids[b * cap + s] * n + j];
                }
                expected[b * n + j] = acc;
            }
        }
        final DeviceBuffer out = buffer(batch * n);
        device.fill(out, NAN_BITS);
        final DeviceBuffer dIds = upload(ids);
        final DeviceBuffer dCount = upload(count);
        kernels.gatherRowsSum(batch, n, upload(w), dIds, dCount, cap, upload(bias), out);
        assertThat(device.downloadFloats(out, batch * n)).containsExactly(expected);

        final float[] grad = gaussian(batch * n, 1f);
        final float[] dw = gaussian(rows * n, 1f);
        final float[] dwExpected = dw.clone();
        final float scale = 0.37f;
        for (int j = 0; j < n; j++) {
            for (int b = 0; b < batch; b++) {
                final float g = scale * grad[b * n + j];
                for (int s = 0; s < count[b]; s++) {
                    final int cell = ids[b * cap + s] * n + j;
                    dwExpected[cell] = dwExpected[cell] + vals[b * cap + s] * g;
                }
            }
        }
        final DeviceBuffer dDw = upload(dw);
        kernels.scatterRowsAdd(batch, n, dDw, dIds, upload(vals), dCount, cap, upload(grad), scale);
        assertThat(device.downloadFloats(dDw, rows * n)).containsExactly(dwExpected);
    }

    @Test
    void topkWithErrorFeedbackKeepsLargestTiesToSmallerIndexAndSplitsExactly() {
        final RingLayout layout = RingLayout.of(10_000, 4096, 0.01); // last block 1808 long
        final int m = 3;
        final int slot = 1;
        final float[] a = gaussian(layout.dimension(), 1f);
        for (int i = 100; i < 160; i++) {
            a[i] = (i % 2 == 0 ? 1 : -1) * 3.5f; // 60 ties at the cut of block 0 (kb = 41)
        }
        final float[] values = new float[m * layout.k()];
        final short[] indices = new short[m * layout.k()];
        final float[] eExpected = a.clone();
        for (int blk = 0; blk < layout.blocks(); blk++) {
            final int start = blk * layout.blockSize();
            final int len = Math.min(layout.blockSize(), layout.dimension() - start);
            final int want = blk == layout.blocks() - 1 ? layout.lastK() : layout.kb();
            final Integer[] order = new Integer[len];
            for (int i = 0; i < len; i++) {
                order[i] = i;
            }
            final float[] block = Arrays.copyOfRange(a, start, start + len);
            Arrays.sort(order, (x, y) -> {
                final int byMagnitude = Float.compare(Math.abs(block[y]), Math.abs(block[x]));
                return byMagnitude != 0 ? byMagnitude : Integer.compare(x, y);
            });
            final int[] kept = new int[want];
            for (int i = 0; i < want; i++) {
                kept[i] = order[i];
            }
            Arrays.sort(kept);
            for (int i = 0; i < want; i++) {
                final int col = slot * layout.k() + blk * layout.kb() + i;
                values[col] = a[start + kept[i]];
                indices[col] = (short) kept[i];
                eExpected[start + kept[i]] = 0f;
            }
        }
        final DeviceBuffer dA = upload(a);
        final DeviceBuffer dV = buffer(m * layout.k());
        final DeviceBuffer dI = buffer((m * layout.k() + 1) / 2);
        device.upload(dV, new float[m * layout.k()]);
        device.upload(dI, new short[m * layout.k() + (m * layout.k()) % 2]);
        kernels.topkErrorFeedback(layout, dA, slot, dV, dI);
        final float[] e = device.downloadFloats(dA, layout.dimension());
        final float[] v = device.downloadFloats(dV, m * layout.k());
        final short[] idx = device.downloadShorts(dI, m * layout.k());
        assertThat(Arrays.copyOf(idx, m * layout.k())).containsExactly(indices);
        assertThat(v).containsExactly(values);
        assertThat(e).containsExactly(eExpected);
        // a = c + e bitwise: every coordinate is in exactly one of the two.
        for (int blk = 0; blk < layout.blocks(); blk++) {
            final int want = blk == layout.blocks() - 1 ? layout.lastK() : layout.kb();
            for (int i = 0; i < want; i++) {
                final int col = slot * layout.k() + blk * layout.kb() + i;
                final int coord = blk * layout.blockSize() + Short.toUnsignedInt(idx[col]);
                assertThat(Float.floatToRawIntBits(v[col])).isEqualTo(Float.floatToRawIntBits(a[coord]));
                assertThat(e[coord]).isZero();
            }
        }
    }

    @ParameterizedTest(name = "block size {0}")
    @ValueSource(ints = {8192, 32768}) // 82 entries per row and block (the batched path), 328 (one row at a time)
    void ringDotsAndWeightedSumMatchReference(final int blockSize) {
        final RingLayout layout = RingLayout.of(50_000, blockSize, 0.01);
        final int m = 32;
        final int filled = 29;
        final float[] values = gaussian(m * layout.k(), 1f);
        final short[] indices = new short[m * layout.k()];
        for (int r = 0; r < m; r++) {
            for (int blk = 0; blk < layout.blocks(); blk++) {
                final int len = Math.min(layout.blockSize(), layout.dimension() - blk * layout.blockSize());
                final int want = blk == layout.blocks() - 1 ? layout.lastK() : layout.kb();
                final int[] picked = random.ints(0, len).distinct().limit(want).sorted().toArray();
                for (int i = 0; i < want; i++) {
                    indices[r * layout.k() + blk * layout.kb() + i] = (short) picked[i];
                }
            }
        }
        final float[] x = gaussian(layout.dimension(), 1f);
        final double[] dotsExpected = new double[m];
        final double[] alpha = new double[m];
        final float[] sumExpected = new float[layout.dimension()];
        for (int r = 0; r < filled; r++) {
            alpha[r] = random.nextDouble(-1, 1);
        }
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < layout.k(); j++) {
                final int coord = coordinate(layout, j, indices[r * layout.k() + j]);
                if (r < filled) {
                    dotsExpected[r] += (double) values[r * layout.k() + j] * x[coord];
                }
            }
        }
        for (int r = 0; r < filled; r++) {
            final float a = (float) alpha[r];
            for (int j = 0; j < layout.k(); j++) {
                final int coord = coordinate(layout, j, indices[r * layout.k() + j]);
                sumExpected[coord] = sumExpected[coord] + a * values[r * layout.k() + j];
            }
        }
        final DeviceBuffer dV = upload(values);
        final DeviceBuffer dI = buffer((indices.length + 1) / 2);
        device.upload(dI, Arrays.copyOf(indices, indices.length + indices.length % 2));
        final DeviceBuffer dots = buffer(2 * m);
        kernels.ringDots(layout, m, filled, dV, dI, upload(x), dots);
        final double[] dotsActual = device.downloadDoubles(dots, m);
        for (int r = 0; r < m; r++) {
            assertThat(dotsActual[r]).isCloseTo(dotsExpected[r], org.assertj.core.data.Offset.offset(
                    1e-12 * Math.max(1, Math.abs(dotsExpected[r]))));
        }
        final DeviceBuffer dAlpha = buffer(2 * m);
        device.upload(dAlpha, alpha);
        final DeviceBuffer out = buffer(layout.dimension());
        device.fill(out, NAN_BITS);
        kernels.ringWeightedSum(layout, filled, dV, dI, dAlpha, buffer(m), out);
        assertThat(device.downloadFloats(out, layout.dimension())).containsExactly(sumExpected);
    }

    @Test
    void accountantAgreesWithDriverAndPinnedCopiesRoundTrip() {
        final long bytes = 256L << 20;
        final long freeBefore = device.memoryInfo()[0];
        final long liveBefore = accountant.liveBytes(MemoryTier.DEVICE);
        try (DeviceBuffer big = device.allocate(bytes, "test")) {
            final long used = freeBefore - device.memoryInfo()[0];
            assertThat(accountant.liveBytes(MemoryTier.DEVICE) - liveBefore).isEqualTo(bytes);
            // The driver rounds to its page size (2 MiB); it may not report more than one page of slack.
            assertThat(used).isBetween(bytes, bytes + (2L << 20));
            try (PinnedBuffer pinned = device.allocatePinned(1 << 20, "test")) {
                final float[] data = gaussian(1 << 18, 1f);
                pinned.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(data));
                device.driver().copyToDeviceAsync(big.pointer(), pinned.segment(), 1 << 20, device.copyStream());
                device.driver().synchronize(device.copyStream());
                assertThat(device.downloadFloats(big, 1 << 18)).containsExactly(data);
            }
        }
        assertThat(accountant.liveBytes(MemoryTier.DEVICE)).isEqualTo(liveBefore);
    }

    private static int coordinate(final RingLayout layout, final int j, final short rel) {
        final int blk = Math.min(j / layout.kb(), layout.blocks() - 1);
        return blk * layout.blockSize() + Short.toUnsignedInt(rel);
    }

    private float[] gaussian(final int n, final float scale) {
        final float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    private DeviceBuffer buffer(final int floats) {
        final DeviceBuffer b = device.allocate(4L * floats, "test");
        buffers.add(b);
        return b;
    }

    private DeviceBuffer upload(final float[] data) {
        final DeviceBuffer b = buffer(data.length);
        device.upload(b, data);
        return b;
    }

    private DeviceBuffer upload(final int[] data) {
        final DeviceBuffer b = buffer(data.length);
        device.upload(b, data);
        return b;
    }

    @org.junit.jupiter.api.BeforeEach
    void requireGpu() {
        if (Boolean.getBoolean("spillway.cuda.required") && !probe.available()) {
            throw new IllegalStateException("CUDA required (-Dspillway.cuda.required) but unusable: " + probe.detail());
        }
        assumeTrue(probe.available(), () -> "CUDA tests skipped: no usable GPU: " + probe.detail());
    }

    @org.junit.jupiter.api.AfterEach
    void freeBuffers() {
        buffers.forEach(DeviceBuffer::close);
        buffers.clear();
    }
}
