// Spillway CUDA kernels, compiled at run time by NVRTC for the device's architecture.
// Determinism rule (docs/spec-double-checkpointing.md §8): no floating-point atomics; every sum runs in a fixed
// order, so recomputation reproduces the first pass bit for bit and results match the CPU reference.

typedef unsigned short u16;

// Exclusive prefix sum of one int per thread over the whole block; *total receives the block's sum.
// Needs blockDim.x a multiple of 32 and shared scratch of 32 ints.
__device__ int block_exclusive_scan(int v, int* scratch, int* total) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    int inclusive = v;
    for (int o = 1; o < 32; o <<= 1) {
        const int n = __shfl_up_sync(0xffffffffu, inclusive, o);
        if (lane >= o) inclusive += n;
    }
    if (lane == 31) scratch[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
        int w = lane < warps ? scratch[lane] : 0;
        for (int o = 1; o < 32; o <<= 1) {
            const int n = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += n;
        }
        if (lane < warps) scratch[lane] = w;  // inclusive warp totals
    }
    __syncthreads();
    const int warpOffset = warp == 0 ? 0 : scratch[warp - 1];
    *total = scratch[warps - 1];
    __syncthreads();
    return warpOffset + inclusive - v;
}

// ---------------------------------------------------------------------------------------------------
// LIF forward step of one layer for a batch, sparse in both inputs and recurrent spikes.
// One CUDA block per batch row. Weights are row-major [presynaptic][N], so a gathered row is coalesced.
//   I[n]   = bias[n] + sum_s inVal[b,s] * Win[inIds[b,s], n] + sum_s Wrec[spkIn[b,s], n]
//   V[n]   = alpha * Vprev[n] * (Vprev[n] > theta ? 0 : 1) + (1 - alpha) * gain * I[n]
//   spikes = ascending ids of V > theta, at most cap; *overflow counts the ones that did not fit.
extern "C" __global__ void lif_forward_sparse(
        const int N, const float* __restrict__ Win, const int* __restrict__ inIds,
        const float* __restrict__ inVal, const int* __restrict__ inCount, const int inCap,
        const float* __restrict__ Wrec, const int* __restrict__ spkIn, const int* __restrict__ spkInCount,
        const int spkCap, const float* __restrict__ bias, const float* __restrict__ Vprev,
        float* __restrict__ Vout, int* __restrict__ spkOut, int* __restrict__ spkOutCount,
        int* __restrict__ overflow, const float alpha, const float gain, const float theta) {
    __shared__ int scratch[32];
    const int b = blockIdx.x;
    const int nIn = inCount[b];
    const int nSpk = spkInCount[b];
    const int* ids = inIds + (long)b * inCap;
    const float* vals = inVal + (long)b * inCap;
    const int* spk = spkIn + (long)b * spkCap;
    const float* vp = Vprev + (long)b * N;
    float* vo = Vout + (long)b * N;
    int* out = spkOut + (long)b * spkCap;
    int written = 0;
    for (int base = 0; base < N; base += blockDim.x) {
        const int n = base + threadIdx.x;
        int fire = 0;
        if (n < N) {
            float current = bias[n];
            for (int s = 0; s < nIn; s++) current = current + vals[s] * Win[(long)ids[s] * N + n];
            for (int s = 0; s < nSpk; s++) current = current + Wrec[(long)spk[s] * N + n];
            const float prev = vp[n];
            const float kept = prev > theta ? 0.0f : prev;
            const float v = alpha * kept + (1.0f - alpha) * gain * current;
            vo[n] = v;
            fire = v > theta ? 1 : 0;
        }
        int total;
        const int pos = written + block_exclusive_scan(fire, scratch, &total);
        if (fire && pos < spkCap) out[pos] = n;
        written += total;
    }
    if (threadIdx.x == 0) {
        spkOutCount[b] = written < spkCap ? written : spkCap;
        if (written > spkCap) atomicAdd(overflow, written - spkCap);
    }
}

// out[b, n] = bias[n] + sum_s W[ids[b,s], n] for a batch of spike lists (readout of spikes).
extern "C" __global__ void gather_rows_sum(const int N, const float* __restrict__ W,
        const int* __restrict__ ids, const int* __restrict__ count, const int cap,
        const float* __restrict__ bias, float* __restrict__ out) {
    const int b = blockIdx.y;
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= N) return;
    const int* row = ids + (long)b * cap;
    float acc = bias == nullptr ? 0.0f : bias[n];
    const int c = count[b];
    for (int s = 0; s < c; s++) acc = acc + W[(long)row[s] * N + n];
    out[(long)b * N + n] = acc;
}

// dW[ids[b,s], n] += scale * grad[b, n] for every batch row in order: the weight-gradient update that
// touches only rows of active neurons or inputs. One thread per column n walks the batch in a fixed
// order, so no atomics are needed even when two rows share an id.
extern "C" __global__ void scatter_rows_add(const int N, const int B, float* __restrict__ dW,
        const int* __restrict__ ids, const float* __restrict__ vals, const int* __restrict__ count,
        const int cap, const float* __restrict__ grad, const float scale) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= N) return;
    for (int b = 0; b < B; b++) {
        const int c = count[b];
        const float g = scale * grad[(long)b * N + n];
        for (int s = 0; s < c; s++) {
            const float v = vals == nullptr ? 1.0f : vals[(long)b * cap + s];
            float* cell = dW + (long)ids[(long)b * cap + s] * N + n;
            *cell = *cell + v * g;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// EFCP sparse ring buffer, block-relative layout (docs/spec-efcp-mfac.md §2.5): row r holds kb entries for each
// full d-block of size B and lastK for the short last block; column j belongs to block min(j/kb, nb-1)
// and its coordinate is idx + block*B. Indices are unsigned 16-bit (B <= 65536).

__device__ __forceinline__ long abs_index(const int j, const u16 rel, const int kb, const int nb, const int B) {
    int blk = j / kb;
    if (blk > nb - 1) blk = nb - 1;
    return (long)blk * B + rel;
}

// out[r] = sum_j V[r,j] * x[abs(I[r,j])] in double, for r < rows; one CUDA block per row, fixed-order
// tree reduction. Rows at or beyond `filled` are zero (not yet written).
extern "C" __global__ void ring_dots(const float* __restrict__ V, const u16* __restrict__ I, const int k,
        const int kb, const int nb, const int B, const int filled, const float* __restrict__ x,
        double* __restrict__ out) {
    extern __shared__ double partial[];
    const int r = blockIdx.x;
    double acc = 0.0;
    if (r < filled) {
        const float* v = V + (long)r * k;
        const u16* idx = I + (long)r * k;
        for (int j = threadIdx.x; j < k; j += blockDim.x) {
            acc += (double)v[j] * (double)x[abs_index(j, idx[j], kb, nb, B)];
        }
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = partial[0];
}

// alpha (the window's coefficients, fp64) as float: what the weighted sum multiplies by, converted once.
extern "C" __global__ void alpha_to_float(const double* __restrict__ alpha, const int n, float* __restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = (float)alpha[i];
}

// out = sum_r alphaF[r] * V[r,:] scattered to abs(I[r,:]), dense d-vector. One CUDA block per d-block
// accumulates in shared memory row by row, in row order (indices are unique within a row and block, so no
// atomics), then writes the whole block, so untouched coordinates come out as exact zeros. Each product and
// sum is rounded on its own (no fused multiply-add), as the Java reference computes it.
// When a row's entries of this block fit one per thread, the loads of WS_ROWS rows are issued together
// before their scatters, so the row loop is not bound by one memory latency per row; alpha arrives as float
// and the launch bounds keep the registers for WS_ROWS rows (measured on an H200: 2.6x faster than loading
// fp64 alpha per row with 8 rows in flight; 16 rows in flight is slower again).
// ring_weighted_sum (up to 128 entries per row and block) and ring_weighted_sum_wide (more: up to 1024 in the
// batched path) run the same body.
template <int WS_ROWS>
__device__ __forceinline__ void ring_ws_body(const float* __restrict__ V, const u16* __restrict__ I, const int k,
        const int kb, const int nb, const int B, const int lastLen, const int filled,
        const float* __restrict__ alphaF, float* __restrict__ out) {
    extern __shared__ float acc[];
    const int blk = blockIdx.x;
    const int len = blk == nb - 1 ? lastLen : B;
    const int first = blk * kb;
    const int count = blk == nb - 1 ? k - first : kb;
    for (int i = threadIdx.x; i < len; i += blockDim.x) acc[i] = 0.0f;
    __syncthreads();
    if (count <= blockDim.x) {
        const int j = threadIdx.x;
        for (int r0 = 0; r0 < filled; r0 += WS_ROWS) {
            float v[WS_ROWS];
            float a[WS_ROWS];
            int at[WS_ROWS];
#pragma unroll
            for (int q = 0; q < WS_ROWS; q++) {
                const int r = r0 + q;
                at[q] = -1;
                if (r < filled && j < count) {
                    const long col = (long)r * k + first + j;
                    v[q] = V[col];
                    at[q] = I[col];
                    a[q] = alphaF[r];
                }
            }
#pragma unroll
            for (int q = 0; q < WS_ROWS; q++) {
                if (at[q] >= 0) acc[at[q]] = __fadd_rn(acc[at[q]], __fmul_rn(a[q], v[q]));
                __syncthreads();
            }
        }
    } else {
        for (int r = 0; r < filled; r++) {
            const float a = alphaF[r];
            const float* v = V + (long)r * k + first;
            const u16* idx = I + (long)r * k + first;
            for (int j = threadIdx.x; j < count; j += blockDim.x) acc[idx[j]] = __fadd_rn(acc[idx[j]], __fmul_rn(a, v[j]));
            __syncthreads();
        }
    }
    float* o = out + (long)blk * B;
    for (int i = threadIdx.x; i < len; i += blockDim.x) o[i] = acc[i];
}

extern "C" __global__ void __launch_bounds__(128, 8) ring_weighted_sum(const float* __restrict__ V,
        const u16* __restrict__ I, const int k, const int kb, const int nb, const int B, const int lastLen,
        const int filled, const float* __restrict__ alphaF, float* __restrict__ out) {
    ring_ws_body<12>(V, I, k, kb, nb, B, lastLen, filled, alphaF, out);
}

extern "C" __global__ void __launch_bounds__(1024) ring_weighted_sum_wide(const float* __restrict__ V,
        const u16* __restrict__ I, const int k, const int kb, const int nb, const int B, const int lastLen,
        const int filled, const float* __restrict__ alphaF, float* __restrict__ out) {
    ring_ws_body<8>(V, I, k, kb, nb, B, lastLen, filled, alphaF, out);
}

// Error-feedback Top-k per d-block: the accumulator a (= e + g, updated in place) keeps the kb entries of
// largest |a| (ties: smaller index first), which are written as row `slot` of the ring buffer in
// ascending index order and zeroed in a, so a becomes the new error e and a = c + e holds bitwise.
// Exact radix select on the 31 magnitude bits; counts are integers, so the result is deterministic.
extern "C" __global__ void topk_ef(float* __restrict__ a, const int d, const int kb, const int nb,
        const int B, const int k, const int slot, float* __restrict__ V, u16* __restrict__ I) {
    __shared__ int hist[256];
    __shared__ unsigned prefixS;
    __shared__ int remainingS;
    __shared__ int scratch[32];
    const int blk = blockIdx.x;
    const long start = (long)blk * B;
    const int len = (int)(((long)d - start) < B ? ((long)d - start) : B);
    const int want = blk == nb - 1 ? k - blk * kb : kb;
    float* e = a + start;
    unsigned prefix = 0, mask = 0;
    int remaining = want;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < len; i += blockDim.x) {
            const unsigned key = __float_as_uint(e[i]) & 0x7fffffffu;
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int above = 0, bin = 255;
            for (; bin > 0; bin--) {
                if (above + hist[bin] >= remaining) break;
                above += hist[bin];
            }
            prefixS = prefix | ((unsigned)bin << shift);
            remainingS = remaining - above;
        }
        __syncthreads();
        prefix = prefixS;
        remaining = remainingS;
        mask |= 255u << shift;
    }
    // prefix is now the want-th largest magnitude; take all above it and the first `remaining` equal to it.
    float* vrow = V + (long)slot * k + (long)blk * kb;
    u16* irow = I + (long)slot * k + (long)blk * kb;
    int taken = 0, equalSeen = 0;
    for (int base = 0; base < len; base += blockDim.x) {
        const int i = base + threadIdx.x;
        unsigned key = 0;
        int isEqual = 0, isAbove = 0;
        if (i < len) {
            key = __float_as_uint(e[i]) & 0x7fffffffu;
            isAbove = key > prefix;
            isEqual = key == prefix;
        }
        int eqTotal;
        const int eqRank = equalSeen + block_exclusive_scan(isEqual, scratch, &eqTotal);
        const int take = (isAbove || (isEqual && eqRank < remaining)) && want > 0 ? 1 : 0;
        int takeTotal;
        const int pos = taken + block_exclusive_scan(take, scratch, &takeTotal);
        if (take) {
            vrow[pos] = e[i];
            irow[pos] = (u16)i;
            e[i] = 0.0f;
        }
        taken += takeTotal;
        equalSeen += eqTotal;
    }
}

// Bandwidth reference: y = x, as the device's practical memory ceiling for the bandwidth fraction.
extern "C" __global__ void copy_f32(const float* __restrict__ x, float* __restrict__ y, const long n) {
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) y[i] = x[i];
}

// ---------------------------------------------------------------------------------------------------
// LIF backward, elementwise part for one step t (see lif_forward_sparse for the forward):
//   dS_t    = dLoss[b,n] (or lossConst where dLoss is null) + (1 - alpha) * gain * R[b,n]
//             where R = gV_{t+1} W_rec^T came from cuBLAS (the recurrent path into step t+1)
//   gV_t    = dS_t * sg(V_t) + alpha * (V_t > theta ? 0 : 1) * gV_{t+1}
//   sg(v)   = 1 / (beta * |v - theta| + 1)^2      (SuperSpike surrogate)
// The reset mask is stop-gradient, as in the forward pass. gVnext may alias nothing; gVout is written.
extern "C" __global__ void lif_backward_elementwise(const int total, const float* __restrict__ V,
        const float* __restrict__ dLoss, const float lossConst, const float* __restrict__ R,
        const float* __restrict__ gVnext, float* __restrict__ gVout, const float alpha, const float gain,
        const float theta, const float beta) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const float v = V[i];
    const float dS = (dLoss == nullptr ? lossConst : dLoss[i]) + (1.0f - alpha) * gain * R[i];
    const float x = beta * fabsf(v - theta) + 1.0f;
    const float sg = 1.0f / (x * x);
    const float keep = v > theta ? 0.0f : 1.0f;
    gVout[i] = dS * sg + alpha * keep * gVnext[i];
}

// out[n] += scale * sum_b x[b, n], batch rows in order (the bias gradient).
extern "C" __global__ void column_sum_add(const int N, const int B, const float* __restrict__ x,
        float* __restrict__ out, const float scale) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= N) return;
    float acc = out[n];
    for (int b = 0; b < B; b++) acc = acc + scale * x[(long)b * N + n];
    out[n] = acc;
}

// out = (V > theta) as 0/1 floats: the dense spike matrix for the weight-gradient GEMM (deterministic,
// unlike an atomic scatter; docs/spec-double-checkpointing.md §8).
extern "C" __global__ void spikes_dense(const int total, const float* __restrict__ V, const float theta,
        float* __restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) out[i] = V[i] > theta ? 1.0f : 0.0f;
}

// out[b * width + i] = (ids[b] == i): one-hot rows of the step's event types.
extern "C" __global__ void one_hot(const int batch, const int width, const int* __restrict__ ids,
        float* __restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * width) return;
    out[i] = ids[i / width] == i % width ? 1.0f : 0.0f;
}

