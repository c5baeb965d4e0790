package io.spillway.engine;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.Backends;
import io.spillway.engine.internals.SpikingLearner;
import io.spillway.engine.optim.Optimizer;
import io.spillway.engine.optim.Optimizers;
import java.util.Locale;
import java.util.Objects;

/** Makes {@link Learner}s. Thread-safe (stateless). */
public final class Learners {

    private Learners() {
    }

    /**
     * A spiking-RNN learner for {@code config}: the backend is selected with {@code Backends.select}
     * (logged fallback for {@code auto}), parameters are initialised from the seed.
     *
     * @param config never null
     * @return a new learner; the caller owns it and must close it
     * @throws IllegalArgumentException for an optimizer or checkpoint schedule this build does not have yet
     * @throws io.spillway.engine.backend.BackendUnavailableException if an explicitly named backend cannot run
     */
    public static Learner create(final LearnerConfig config) {
        Objects.requireNonNull(config, "config");
        final String schedule = config.checkpointSchedule().toLowerCase(Locale.ROOT);
        if (!java.util.Set.of("auto", "bptt", "uniform", "remote", "double").contains(schedule)) {
            throw new IllegalArgumentException("unknown checkpoint schedule '" + config.checkpointSchedule()
                    + "': expected auto, bptt, uniform, remote or double");
        }
        final Optimizer optimizer = optimizer(config);
        final ArrayBackend backend = Backends.selectForLearner(config.backend());
        return new SpikingLearner(config, backend, optimizer);
    }

    private static Optimizer optimizer(final LearnerConfig config) {
        // The learner books the optimizer's memory itself (stateBytes), so no accountant here.
        return Optimizers.create(config.optimizer(), config.learningRate(), null);
    }
}
