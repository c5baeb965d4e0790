package io.spillway.engine.model.egru;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.SharedRows;
import io.spillway.engine.backend.cpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The EGRU's products skip silent units: forward, the recurrent and inter-layer row gathers read exactly the
 * rows of the units that emitted; backward, the weight gradients scatter into those rows only and the event
 * adjoints are formed for emitting units and units inside the pseudo-derivative's support only.
 */
class EgruSparsePathTest {

    /**
     * One call of a row operation: the weight offset and the rows it touched, one entry per element that used a
     * row (a batch-wide call lists a row once per element using it, rows in order).
     */
    private record RowCall(String op, int offset, int[] rows, boolean batchWide) {
        RowCall(final String op, final int offset, final int[] rows) {
            this(op, offset, rows, false);
        }
    }

    /** The rows of a batch-wide call, one entry per use. */
    private static int[] uses(final SharedRows shared) {
        final int[] rows = new int[shared.size()];
        for (int r = 0; r < shared.rows(); r++) {
            for (int u = shared.from(r); u < shared.from(r + 1); u++) {
                rows[u] = r;
            }
        }
        return rows;
    }

    private static ArrayBackend recording(final CpuBackend real, final List<RowCall> calls) {
        return (ArrayBackend) Proxy.newProxyInstance(ArrayBackend.class.getClassLoader(),
                new Class<?>[] {ArrayBackend.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "gatherRows", "scatterAddRows" -> calls.add(new RowCall(method.getName(), (int) args[1],
                                java.util.Arrays.copyOfRange((int[]) args[3], (int) args[5], (int) args[6])));
                        case "dotRows" -> calls.add(new RowCall("dotRows", (int) args[1],
                                java.util.Arrays.copyOf((int[]) args[3], (int) args[4])));
                        case "gatherShared" -> calls.add(new RowCall("gatherRows", (int) args[1],
                                uses((SharedRows) args[3]), true));
                        case "scatterShared" -> calls.add(new RowCall("scatterAddRows", (int) args[1],
                                uses((SharedRows) args[3]), true));
                        case "dotShared" -> calls.add(new RowCall("dotRows", (int) args[1],
                                uses((SharedRows) args[3]), true));
                        default -> { }
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (final InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void productsTouchOnlyTheRowsOfEmittingUnits() {
        final EgruSettings s = new EgruSettings(6, 0, 64, 2, 0.2f, 8f, 0.15f, 1f, -0.1f,
                EgruSettings.Readout.CELL, false);
        final EgruFixture fx = new EgruFixture(s, new int[] {12, 12}, 21L, 3f);
        final List<RowCall> calls = new ArrayList<>();
        try (CpuBackend real = new CpuBackend()) {
            final float[] grad = new float[fx.params.size()];
            final EgruWindow window = fx.window(recording(real, calls), grad);
            final List<EgruState> states = EgruGradientTest.bptt(window, fx.initial, 12);
            window.release();
            final int n = s.hiddenSize();
            long events = 0;
            long recurrentRows = 0;
            long interLayerRows = 0;
            for (final RowCall c : calls) {
                if (c.op().equals("gatherRows") && c.offset() == fx.params.wRec(0)) {
                    recurrentRows += c.rows().length;
                }
                if (c.op().equals("gatherRows") && c.offset() == fx.params.wIn(1)) {
                    interLayerRows += c.rows().length;
                }
                if (c.op().equals("gatherRows") || c.op().equals("scatterAddRows")) {
                    for (int k = 1; k < c.rows().length; k++) {
                        // sorted: a fixed summation order (a batch-wide call lists a shared row once per element)
                        if (c.batchWide()) {
                            assertThat(c.rows()[k]).isGreaterThanOrEqualTo(c.rows()[k - 1]);
                        } else {
                            assertThat(c.rows()[k]).isGreaterThan(c.rows()[k - 1]);
                        }
                    }
                }
            }
            // forward: layer 0's recurrent gathers read the rows of the previous step's events, nothing else
            long expectedRecurrent = fx.initial.eventIds(0, 0).length + fx.initial.eventIds(0, 1).length;
            long expectedInterLayer = 0;
            for (int t = 0; t < 12; t++) {
                for (int b = 0; b < 2; b++) {
                    if (t < 11) {
                        expectedRecurrent += states.get(t).eventIds(0, b).length;
                    }
                    expectedInterLayer += states.get(t).eventIds(0, b).length;
                    events += states.get(t).eventIds(0, b).length + states.get(t).eventIds(1, b).length;
                }
            }
            assertThat(recurrentRows).isEqualTo(expectedRecurrent);
            assertThat(interLayerRows).isEqualTo(expectedInterLayer);
            final double activity = events / (12.0 * 2 * 2 * n);
            assertThat(activity).isBetween(0.02, 0.5);
            // backward: event adjoints for a small part of the units, not all of them
            final long adjointRows = calls.stream().filter(c -> c.op().equals("dotRows")).mapToLong(c -> c.rows().length)
                    .sum();
            assertThat(adjointRows).isEqualTo(window.adjointRows()).isPositive();
            final long denseRows = (11L * 2 * 2 + 12L * 2) * n; // recurrent for t < 11, inter-layer for every t
            assertThat((double) adjointRows / denseRows).isLessThan(0.6);
            // 34 event adjoints (22 recurrent, 12 inter-layer): most went row by row, few units needing one
            assertThat(window.denseAdjoints()).isLessThan(34 / 4);

        }
    }
}
