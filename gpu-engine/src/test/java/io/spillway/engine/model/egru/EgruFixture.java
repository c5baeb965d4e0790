package io.spillway.engine.model.egru;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.model.WindowInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** A random EGRU window (inputs, targets, initial state with events, weights) for tests. */
final class EgruFixture {
    final EgruSettings settings;
    final EgruParameters params;
    final int[] lengths;
    final int[][] rows;
    final float[][] scales;
    final int[] targets;
    final EgruState initial;

    /**
     * @param weightScale multiplies the initial weights, so that enough units emit and sit near threshold
     */
    EgruFixture(final EgruSettings s, final int[] lengths, final long seed, final float weightScale) {
        this.settings = s;
        this.params = new EgruParameters(s);
        params.initialise(seed);
        final Random r = new Random(seed);
        final float[] p = params.values();
        for (final var t : params.tensors()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                if (!t.name().endsWith(".threshold")) {
                    p[i] = p[i] * weightScale + (float) (0.05 * r.nextGaussian()); // non-zero biases too
                }
            }
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
        final float[] c = new float[s.layers() * batch * n];
        final int[][] events = new int[s.layers() * batch][];
        for (int pop = 0; pop < events.length; pop++) {
            final int layer = pop / batch;
            final List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                c[pop * n + i] = (float) (r.nextDouble() - 0.3);
                if (c[pop * n + i] > p[params.threshold(layer) + i]) {
                    ids.add(i);
                }
            }
            events[pop] = ids.stream().mapToInt(Integer::intValue).toArray();
        }
        initial = new EgruState(batch, s.layers(), n, c, events);
    }

    WindowInputs inputs() {
        return new WindowInputs(lengths, rows, scales, targets);
    }

    EgruWindow window(final ArrayBackend backend, final float[] grad) {
        return new EgruWindow(backend, params, inputs(), grad);
    }

    int steps() {
        return Arrays.stream(lengths).max().orElse(0);
    }
}
