package io.spillway.engine.model.lif;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.Backends;
import org.junit.jupiter.api.Test;

class LifKernelsTest {

    @Test
    void integrateAndFireResetsThePreviousSpikersAndReportsEveryNewOne() {
        final LifKernels k = LifKernels.JAVA;
        final float[] v = new float[3];
        final int[] ids = new int[1];
        final int count = k.integrateAndFire(new float[] {2, 2, 0}, 0, new int[] {1}, 1, new float[] {0, 0.5f, 1.5f},
                0, 0.5f, 1f, v, 0, 3, 1f, null, 0, ids);
        assertThat(v).containsExactly(1f, 0.5f, 1.5f);
        assertThat(count).isEqualTo(1);
        assertThat(ids).containsExactly(2);
        // a threshold shift of 0.6 on neuron 2 silences it; a second spiker is reported, not written
        final int[] two = new int[1];
        assertThat(k.integrateAndFire(new float[] {4, 0, 0}, 0, new int[0], 0, new float[] {0, 2, 1.5f}, 0, 0.5f,
                1f, v, 0, 3, 1f, new float[] {0, 0, 0.6f}, 0, two)).isEqualTo(2);
        assertThat(two).containsExactly(0);
    }

    @Test
    void surrogateIsOneAtTheShiftedThresholdAndZeroBelowTheSecondThreshold() {
        final float[] dv = new float[3];
        LifKernels.JAVA.surrogateBackward(new float[] {1f, 1.5f, 0.8f}, 0, new float[] {0f, 0.5f, 0f}, 0,
                new float[] {2f, 3f, 5f}, 0, 1f, 10f, 0.9f, dv, 0, 3);
        assertThat(dv).containsExactly(2f, 3f, 0f); // the first two exactly at threshold: surrogate 1
        final float[] half = new float[1];
        LifKernels.JAVA.surrogateBackward(new float[] {1.1f}, 0, null, 0, new float[] {4f}, 0, 1f, 10f, 0.9f, half, 0, 1);
        final float d = 10f * Math.abs(1.1f - 1f) + 1f;
        assertThat(half[0]).isEqualTo(4f / (d * d));
    }

    @Test
    void aBackendWithoutItsOwnLifKernelsGetsTheReference() {
        try (ArrayBackend cpu = Backends.select("cpu")) {
            assertThat(LifKernels.of(cpu)).isSameAs(LifKernels.JAVA);
        }
    }
}
