package io.spillway.engine.backend.cuda.internals;

/**
 * One LIF layer on the GPU for a batch of sequences whose inputs are one event type per step (a one-hot
 * row of W_in): weights, their gradients, and the forward and backward step. The forward is one fused
 * sparse kernel; the backward of a step is a cuBLAS GEMM for the recurrent path, one elementwise kernel
 * and two GEMMs with the 0/1 spike and input matrices for the weight gradients. All deterministic (no float atomics),
 * so recomputed steps are bitwise equal to the first pass.
 *
 * <p>The loss is the mean spike count, as in the PyTorch peer (dLoss/dS = 1/(batch*neurons)), so the two
 * can be timed and compared on the same model.
 */
public final class CudaLifLayer implements AutoCloseable {
    public static final float ALPHA = 0.9f;
    public static final float GAIN = 10f;
    public static final float THETA = 1f;
    public static final float BETA = 10f;

    private final CudaDevice device;
    private final CudaKernels kernels;
    private final int batch;
    private final int inputs;
    private final int neurons;
    private final int capacity;
    private final DeviceBuffer win;
    private final DeviceBuffer wrec;
    private final DeviceBuffer bias;
    private final DeviceBuffer dwin;
    private final DeviceBuffer dwrec;
    private final DeviceBuffer dbias;
    private final DeviceBuffer ones;
    private final DeviceBuffer onesCount;
    private final DeviceBuffer overflow;
    private final DeviceBuffer recurrent;
    private final DeviceBuffer spikeMatrix;
    private final DeviceBuffer inputMatrix;

    public CudaLifLayer(final CudaDevice device, final int batch, final int inputs, final int neurons,
                        final int capacity, final float[] win, final float[] wrec, final float[] bias) {
        this.device = device;
        this.kernels = new CudaKernels(device);
        this.batch = batch;
        this.inputs = inputs;
        this.neurons = neurons;
        this.capacity = capacity;
        this.win = upload(win, "W_in");
        this.wrec = upload(wrec, "W_rec");
        this.bias = upload(bias, "bias");
        this.dwin = zeros(win.length, "dW_in");
        this.dwrec = zeros(wrec.length, "dW_rec");
        this.dbias = zeros(bias.length, "dbias");
        final float[] one = new float[batch];
        java.util.Arrays.fill(one, 1f);
        this.ones = upload(one, "input values");
        final int[] oneCount = new int[batch];
        java.util.Arrays.fill(oneCount, 1);
        this.onesCount = device.allocate(4L * batch, "input counts");
        device.upload(onesCount, oneCount);
        this.overflow = zeros(1, "overflow");
        this.recurrent = zeros(batch * neurons, "recurrent grad");
        this.spikeMatrix = zeros(batch * neurons, "spike matrix");
        this.inputMatrix = zeros(batch * inputs, "input matrix");
    }

    public CudaLifState newState(final String purpose) {
        final CudaLifState s = new CudaLifState(device, batch, neurons, capacity, purpose);
        device.fill(s.memory(), 0);
        return s;
    }

    public long stateBytes() {
        return CudaLifState.bytes(batch, neurons, capacity);
    }

    /** next = step(prev, inputs of this step); {@code inputIds} holds one event type per batch row. */
    public void forward(final CudaLifState prev, final DeviceBuffer inputIds, final CudaLifState next) {
        kernels.lifForwardSparse(batch, neurons, win, inputIds, ones, onesCount, 1, wrec, prev.spikes(), prev.counts(),
                capacity, bias, prev.v(), next.v(), next.spikes(), next.counts(), overflow, ALPHA, GAIN, THETA);
    }

    /**
     * Backward through step t: {@code current} is the state after step t, {@code prev} the one before it,
     * {@code gvNext} the adjoint of V_{t+1} (zeros at the last step); writes the adjoint of V_t to
     * {@code gvOut} and adds the step's weight gradients.
     */
    public void backward(final CudaLifState prev, final CudaLifState current, final DeviceBuffer inputIds,
                         final DeviceBuffer gvNext, final DeviceBuffer gvOut) {
        final float inputScale = (1f - ALPHA) * GAIN;
        // R = gV_{t+1} W_rec^T; column-major view: (W^T)(N x N) * G(N x batch).
        device.cublas().sgemm(Cublas.OP_T, Cublas.OP_N, neurons, batch, neurons, 1f, wrec.pointer(), neurons,
                gvNext.pointer(), neurons, 0f, recurrent.pointer(), neurons);
        kernels.lifBackwardElementwise(batch * neurons, current.v(), null, 1f / (batch * (float) neurons), recurrent,
                gvNext, gvOut, ALPHA, GAIN, THETA, BETA);
        // dW_rec += scale * S_{t-1}^T gV_t and dW_in += scale * X_t^T gV_t as GEMMs with the 0/1 matrices:
        // deterministic, and on a GPU faster than an ordered scatter when many rows share an id.
        kernels.spikesDense(batch * neurons, prev.v(), THETA, spikeMatrix);
        device.cublas().sgemm(Cublas.OP_N, Cublas.OP_T, neurons, neurons, batch, inputScale, gvOut.pointer(), neurons,
                spikeMatrix.pointer(), neurons, 1f, dwrec.pointer(), neurons);
        kernels.oneHot(batch, inputs, inputIds, inputMatrix);
        device.cublas().sgemm(Cublas.OP_N, Cublas.OP_T, neurons, inputs, batch, inputScale, gvOut.pointer(), neurons,
                inputMatrix.pointer(), inputs, 1f, dwin.pointer(), neurons);
        kernels.columnSumAdd(neurons, batch, gvOut, dbias, inputScale);
    }

    /** Spikes that did not fit a spike list since the layer was made (must stay 0 for exact results). */
    public int overflowCount() {
        return device.downloadInts(overflow, 1)[0];
    }

    public void zeroGradients() {
        device.fill(dwin, 0);
        device.fill(dwrec, 0);
        device.fill(dbias, 0);
    }

    public float[] gradWin() {
        return device.downloadFloats(dwin, inputs * neurons);
    }

    public float[] gradWrec() {
        return device.downloadFloats(dwrec, neurons * neurons);
    }

    public float[] gradBias() {
        return device.downloadFloats(dbias, neurons);
    }

    public int batch() {
        return batch;
    }

    public int neurons() {
        return neurons;
    }

    private DeviceBuffer upload(final float[] data, final String purpose) {
        final DeviceBuffer b = device.allocate(4L * data.length, purpose);
        device.upload(b, data);
        return b;
    }

    private DeviceBuffer zeros(final int floats, final String purpose) {
        final DeviceBuffer b = device.allocate(4L * floats, purpose);
        device.fill(b, 0);
        return b;
    }

    @Override
    public void close() {
        for (final DeviceBuffer b : new DeviceBuffer[] {win, wrec, bias, dwin, dwrec, dbias, ones, onesCount, overflow,
                recurrent, spikeMatrix, inputMatrix}) {
            b.close();
        }
    }
}
