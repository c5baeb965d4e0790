package io.spillway.engine.model.lif;

/**
 * {@link LifKernels} as plain Java loops: for the few neurons of a sparse step a native call costs more than the
 * work. Every loop runs in increasing neuron order, so equal inputs give bitwise-equal outputs. Stateless.
 */
final class JavaLifKernels implements LifKernels {

    @Override
    public int integrateAndFire(final float[] vPrev, final int vPrevOffset, final int[] resetIds, final int resetCount,
                                final float[] current, final int currentOffset, final float alpha, final float drive,
                                final float[] v, final int vOffset, final int n, final float theta,
                                final float[] shift, final int shiftOffset, final int[] spikesOut) {
        for (int i = 0; i < n; i++) {
            v[vOffset + i] = alpha * vPrev[vPrevOffset + i] + drive * current[currentOffset + i];
        }
        // hard reset: the previous spikers start from 0, so only the drive remains
        for (int k = 0; k < resetCount; k++) {
            final int i = resetIds[k];
            v[vOffset + i] = alpha * 0f + drive * current[currentOffset + i];
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (v[vOffset + i] > (shift == null ? theta : theta + shift[shiftOffset + i])) {
                if (count < spikesOut.length) {
                    spikesOut[count] = i;
                }
                count++;
            }
        }
        return count;
    }

    @Override
    public void surrogateBackward(final float[] v, final int vOffset, final float[] shift, final int shiftOffset,
                                  final float[] ds, final int dsOffset, final float theta, final float beta,
                                  final float theta2, final float[] dv, final int dvOffset, final int n) {
        for (int i = 0; i < n; i++) {
            final float vi = shift == null ? v[vOffset + i] : v[vOffset + i] - shift[shiftOffset + i];
            if (vi > theta2) {
                final float d = beta * Math.abs(vi - theta) + 1f;
                dv[dvOffset + i] += ds[dsOffset + i] / (d * d);
            }
        }
    }
}
