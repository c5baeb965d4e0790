package io.spillway.engine.model.lif;

import io.spillway.engine.model.WindowInputs;
import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.checkpoint.RecurrentModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** A random window (inputs, targets, initial state, weights) and a plain full-BPTT driver for tests. */
final class WindowFixture {
    final LifParameters params;
    final int[] lengths;
    final int[][] rows;
    final float[][] scales;
    final int[] targets;
    final LifState initial;

    WindowFixture(final LifSettings s, final int[] lengths, final long seed, final float weightScale) {
        this.params = new LifParameters(s);
        params.initialise(seed);
        final Random r = new Random(seed);
        final float[] p = params.values();
        for (int i = 0; i < p.length; i++) {
            p[i] = p[i] * weightScale + (float) (0.05 * r.nextGaussian()); // non-zero biases too
        }
        this.lengths = lengths;
        final int batch = lengths.length;
        final int steps = Arrays.stream(lengths).max().orElse(0);
        rows = new int[batch * steps][];
        scales = new float[batch * steps][];
        targets = new int[batch * steps];
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                final int i = t * batch + b;
                final int nnz = s.featureDimension() == 0 ? 0 : r.nextInt(Math.min(3, s.featureDimension()) + 1);
                final int[] feats = r.ints(0, s.featureDimension() == 0 ? 1 : s.featureDimension()).distinct()
                        .limit(nnz).sorted().toArray();
                rows[i] = new int[1 + nnz];
                scales[i] = new float[1 + nnz];
                rows[i][0] = r.nextInt(s.vocabularySize());
                scales[i][0] = 1f;
                for (int k = 0; k < nnz; k++) {
                    rows[i][1 + k] = s.vocabularySize() + feats[k];
                    scales[i][1 + k] = (float) (2 * r.nextDouble() - 1);
                }
                targets[i] = r.nextInt(5) == 0 ? -1 : r.nextInt(s.vocabularySize());
            }
        }
        final int n = s.hiddenSize();
        final float[] v = new float[s.layers() * batch * n];
        final float[] a = new float[s.adaptive() ? v.length : 0];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (2 * r.nextDouble());
        }
        final int[][] spikes = new int[s.layers() * batch][];
        for (int pop = 0; pop < spikes.length; pop++) {
            final List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                v[pop * n + i] = (float) (2 * r.nextDouble() - 0.5);
                if (v[pop * n + i] > s.theta()) {
                    ids.add(i);
                }
            }
            spikes[pop] = ids.stream().mapToInt(Integer::intValue).toArray();
        }
        initial = new LifState(batch, s.layers(), n, v, a, spikes);
    }

    WindowInputs inputs() {
        return new WindowInputs(lengths, rows, scales, targets);
    }

    LifWindow window(final ArrayBackend backend, final float[] grad) {
        return new LifWindow(backend, params, inputs(), grad);
    }

    DenseReference reference(final boolean smooth) {
        return new DenseReference(params, smooth, lengths, rows, scales, targets, initial);
    }

    double[] paramsAsDouble() {
        final float[] p = params.values();
        final double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = p[i];
        }
        return d;
    }

    /** Full BPTT: forward keeping every tape, then the reverse sweep. Returns the states s_1..s_T. */
    static <S, T> List<S> bptt(final RecurrentModel<S, T> model, final S initial, final int steps) {
        final List<T> tapes = new ArrayList<>();
        final List<S> states = new ArrayList<>();
        S s = initial;
        for (int t = 0; t < steps; t++) {
            final RecurrentModel.Taped<S, T> tp = model.stepWithTape(s, t);
            tapes.add(tp.tape());
            states.add(tp.state());
            s = tp.state();
        }
        final RecurrentModel.Backward<T> back = model.beginBackward();
        for (int t = steps - 1; t >= 0; t--) {
            back.step(tapes.get(t));
        }
        return states;
    }
}
