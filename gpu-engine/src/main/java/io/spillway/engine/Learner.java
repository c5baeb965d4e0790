package io.spillway.engine;

import java.util.List;
import java.util.Map;

/**
 * A continuously trained sparse spiking RNN that predicts each key's next event type.
 *
 * <p>Threading: not thread-safe; confine an instance to one trainer thread. Ownership: the learner
 * owns its device and off-chip memory and frees it in {@link #close()}.
 */
public interface Learner extends AutoCloseable {

    /**
     * Prequential training on a batch of chunks (one chunk per key; distinct keys): for every step the
     * learner first predicts the target, then back-propagates the whole batch with the configured
     * checkpoint schedule and applies one optimizer step. The first event a key ever sends has no
     * predecessor, so it only primes that key's carried state.
     *
     * @param batch chunks of distinct keys; never null, may be empty
     * @return what was trained, predicted and changed
     */
    TrainingStep train(List<SequenceChunk> batch);

    /** Current model version (number of applied optimizer steps). */
    long version();

    /** Copies of the named parameter tensors, flattened, in a stable order. */
    Map<String, float[]> parameters();

    /** Adds a delta to the named tensor (used to apply other instances' updates and by followers). */
    void applyDelta(TensorDelta delta);

    /** Backend, optimizer, model shape and schedule, for logs and metrics. */
    String describe();

    /** The configuration this learner was built with (what its snapshots record as their provenance). */
    LearnerConfig config();

    /** Name of the compute backend in use, e.g. {@code cpu}. */
    String backendName();

    /** The optimizer and its key settings, e.g. {@code adam(lr=0.001)}. */
    String optimizerDescription();

    /** Steps rolled back since creation because a loss, gradient or update was not finite. */
    long divergedSteps();

    /**
     * A copy of the prediction mixture the published predictions come from, as it stands (counts and mixing
     * weights), sharing nothing with the learner: for scoring outside it ({@link PredictionMixture}). Empty when the
     * learner publishes the network's predictions alone.
     */
    java.util.Optional<PredictionMixture> predictionMixture();

    /**
     * Writes everything needed to continue bit-identically after {@link #readState}: version, parameters,
     * optimizer state, RNG and the carried per-key states. The format is versioned by the implementation.
     */
    void writeState(java.io.DataOutput out) throws java.io.IOException;

    /** Restores state written by {@link #writeState} of a learner with the same configuration. */
    void readState(java.io.DataInput in) throws java.io.IOException;

    /** Frees device and off-chip memory. */
    @Override
    void close();
}
