package io.spillway.app.replay.bench;

import io.spillway.engine.Learner;
import io.spillway.engine.LearnerConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * What the benchmark reads from the engine beyond the {@link Learner} interface, and the one switch that picks
 * the recurrent cell. Both go through reflection on purpose: the cell seam (issue 16) is being built beside this
 * benchmark, and the harness must run on the engine as it is today (LIF only, spike rate on the LIF learner) and
 * pick up {@code LearnerConfig.Builder#cell(String)} and a learner's {@code activity()} once they exist.
 */
final class LearnerFigures {
    private LearnerFigures() {
    }

    /**
     * Mean fraction of units emitting per step over the learner's forward evaluations so far: the spike rate for
     * LIF. From a public no-argument {@code activity()} (any cell) or {@code spikeActivity()} (the LIF learner);
     * NaN where the learner has neither.
     */
    static double activity(final Learner learner) {
        for (final String name : new String[] {"activity", "spikeActivity"}) {
            try {
                final Method m = learner.getClass().getMethod(name);
                if (m.getReturnType() == double.class) {
                    return (double) m.invoke(learner);
                }
            } catch (final NoSuchMethodException absent) {
                // try the next name
            } catch (final ReflectiveOperationException e) {
                throw new IllegalStateException("reading " + name + "() of " + learner.getClass().getName(), e);
            }
        }
        return Double.NaN;
    }

    /**
     * Sets the cell on {@code builder}: {@code null} keeps the engine's default. Through {@code cell(String)} where
     * the engine has the option; without it only {@code lif} (the one cell) is accepted.
     *
     * @throws IllegalArgumentException for another cell on an engine without the option
     */
    static LearnerConfig.Builder cell(final LearnerConfig.Builder builder, final String cell) {
        if (cell == null) {
            return builder;
        }
        final Method option;
        try {
            option = LearnerConfig.Builder.class.getMethod("cell", String.class);
        } catch (final NoSuchMethodException absent) {
            if (cell.equalsIgnoreCase("lif")) {
                return builder;
            }
            throw new IllegalArgumentException("this engine has one recurrent cell (lif) and no cell option; "
                    + "realdata.cell=" + cell + " needs the cell seam of issue 16");
        }
        try {
            option.invoke(builder, cell);
        } catch (final InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (final ReflectiveOperationException e) {
            throw new IllegalStateException("setting the cell", e);
        }
        return builder;
    }

    /** The config's cell: {@code cell()} where the engine has it, else {@code lif}. */
    static String cellOf(final LearnerConfig config) {
        try {
            return String.valueOf(LearnerConfig.class.getMethod("cell").invoke(config));
        } catch (final NoSuchMethodException absent) {
            return "lif";
        } catch (final ReflectiveOperationException e) {
            throw new IllegalStateException("reading the cell", e);
        }
    }
}
