package io.spillway.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

class AdamTest {

    /** Adam written out in doubles from Kingma and Ba's Algorithm 1, with the rate at step t scaled by the decay. */
    private static double[] reference(final double lr, final double decay, final double[] gradients) {
        final double b1 = 0.9;
        final double b2 = 0.999;
        double m = 0;
        double v = 0;
        double x = 0;
        final double[] xs = new double[gradients.length];
        for (int t = 1; t <= gradients.length; t++) {
            final double g = gradients[t - 1];
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            final double mHat = m / (1 - Math.pow(b1, t));
            final double vHat = v / (1 - Math.pow(b2, t));
            final double rate = decay == 0 ? lr : lr / Math.sqrt(1 + (t - 1) / decay);
            x -= rate * mHat / (Math.sqrt(vHat) + 1e-8 / Math.sqrt(1 - Math.pow(b2, t)));
            xs[t - 1] = x;
        }
        return xs;
    }

    @Test
    void decayFollowsTheInverseSquareRootOfTheStepCount() {
        final double[] gradients = new double[200];
        for (int i = 0; i < gradients.length; i++) {
            gradients[i] = Math.sin(0.37 * i) + 0.2;
        }
        for (final double decay : new double[] {0, 10, 50}) {
            final Adam adam = (Adam) Optimizers.create(decay == 0 ? "adam" : "adam:decay=" + decay, 0.04f, null);
            adam.initialise(1);
            final float[] x = {0f};
            final double[] expected = reference(0.04, decay, gradients);
            for (int t = 0; t < gradients.length; t++) {
                adam.step(x, new float[] {(float) gradients[t]});
                assertThat((double) x[0]).as("decay %s step %d", decay, t + 1)
                        .isCloseTo(expected[t], org.assertj.core.api.Assertions.within(1e-4 + 1e-4 * Math.abs(expected[t])));
            }
        }
        final Adam decayed = (Adam) Optimizers.create("adam:decay=100", 0.04f, null);
        assertThat(decayed.rateAt(0)).isEqualTo(0.04f, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(decayed.rateAt(300)).isCloseTo(0.02, org.assertj.core.api.Assertions.within(1e-7));
        assertThat(decayed.describe()).isEqualTo("adam(lr=0.04, decay=100)");
        assertThat(Optimizers.create("adam", 0.04f, null).describe()).isEqualTo("adam(lr=0.04)");
        assertThatThrownBy(() -> Optimizers.create("adam:decay=-1", 0.04f, null)).hasMessageContaining("decay=-1");
    }

    @Test
    void aRestoredDecayingAdamContinuesWhereItStopped() throws Exception {
        final Adam first = (Adam) Optimizers.create("adam:decay=20", 0.04f, null);
        final Adam uninterrupted = (Adam) Optimizers.create("adam:decay=20", 0.04f, null);
        first.initialise(3);
        uninterrupted.initialise(3);
        final float[] a = {1f, -1f, 0.5f};
        final float[] b = a.clone();
        for (int t = 0; t < 50; t++) {
            final float[] g = {a[0], 2 * a[1], -a[2] + 0.1f * t};
            first.step(a, g);
            uninterrupted.step(b, g.clone());
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        first.writeState(new DataOutputStream(bytes));
        final Adam restored = (Adam) first.copy();
        restored.initialise(3);
        restored.readState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        for (int t = 50; t < 100; t++) {
            final float[] g = {a[0], 2 * a[1], -a[2] + 0.1f * t};
            restored.step(a, g);
            uninterrupted.step(b, g.clone());
        }
        assertThat(a).containsExactly(b);
    }

    @Test
    void rateScalesMultiplyEachParametersStepExactlyAndAreConfigurationNotState() throws Exception {
        final Adam plain = new Adam(0.04f);
        final Adam scaled = new Adam(0.04f);
        plain.initialise(3);
        scaled.initialise(3);
        assertThat(scaled.scaleRates(new float[] {1f, 0.25f, 0.125f})).isTrue();
        assertThat(scaled.describe()).isEqualTo("adam(lr=0.04, rates scaled per parameter)");
        final Adam copy = (Adam) scaled.copy();
        copy.initialise(3);
        final float[] x = {0.5f, 0.5f, 0.5f};
        final float[] y = x.clone();
        final float[] z = x.clone();
        for (int t = 0; t < 20; t++) {
            final float[] g = {(float) Math.sin(t), (float) Math.sin(t), (float) Math.sin(t)};
            final float[] before = x.clone();
            final float[] scaledBefore = y.clone();
            plain.step(x, g.clone());
            scaled.step(y, g.clone());
            copy.step(z, g.clone());
            // the moments are the same; the scaled coordinates move by a power of two times the plain step
            assertThat(y[0] - scaledBefore[0]).isEqualTo(x[0] - before[0]);
            assertThat(y[1] - scaledBefore[1]).isCloseTo(0.25f * (x[1] - before[1]),
                    org.assertj.core.api.Assertions.within(2e-7f));
            assertThat(y[2] - scaledBefore[2]).isCloseTo(0.125f * (x[2] - before[2]),
                    org.assertj.core.api.Assertions.within(2e-7f));
        }
        assertThat(z).as("a copy keeps the scales").containsExactly(y);
        // the state written is the same format with or without scales
        final ByteArrayOutputStream a = new ByteArrayOutputStream();
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        plain.writeState(new DataOutputStream(a));
        scaled.writeState(new DataOutputStream(b));
        assertThat(b.toByteArray()).containsExactly(a.toByteArray());
        assertThatThrownBy(() -> scaled.scaleRates(new float[] {1f, 1f})).hasMessageContaining("2 rate scales for 3");
        assertThatThrownBy(() -> scaled.scaleRates(new float[] {1f, 0f, 1f})).hasMessageContaining("positive");
        assertThat(new Sgd(0.1f).scaleRates(new float[] {1f, 0.5f, 1f})).as("one rate for all").isFalse();
    }

    private static byte[] state(final Optimizer o) throws Exception {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        o.writeState(new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    @Test
    void anUndoneStepLeavesTheStateAsItWasBitwise() throws Exception {
        final Adam adam = new Adam(0.01f);
        adam.initialise(5);
        final float[] params = {1, 2, 3, 4, 5};
        adam.step(params, new float[] {0.5f, -1, 2, 0, 3});
        final byte[] before = state(adam);
        assertThat(adam.markStep()).isTrue();
        adam.step(params, new float[] {1e30f, 1e30f, -1e30f, 7, Float.MAX_VALUE});
        assertThat(state(adam)).isNotEqualTo(before);
        adam.undoStep();
        assertThat(state(adam)).isEqualTo(before);
        assertThat(adam.steps()).isEqualTo(1);
        assertThatThrownBy(adam::undoStep).as("the mark is used up").isInstanceOf(IllegalStateException.class);
        assertThat(adam.markStep()).isTrue();
        adam.reset();
        assertThatThrownBy(adam::undoStep).as("a reset forgets the mark").isInstanceOf(IllegalStateException.class);
        assertThat(new Adam(0.01f).markStep()).as("nothing to save before initialise").isFalse();
    }
}
