package io.spillway.app.trainer;

/**
 * The trainer thread's work, as the app and its operators see it: {@link TrainerLoop} for replicated training,
 * {@link SplitTrainerLoop} for split training.
 *
 * <p>Threading: {@link #run()} runs on one dedicated thread; the other methods may be used from any thread.
 */
public interface Trainer extends Runnable {

    /** What the loop has done so far. */
    TrainerProgress progress();

    /** Asks the loop to finish the step under way, leave its state durable and return. */
    default void stop() {
        progress().stop();
    }

    /** Why the loop died, if it did. */
    default Throwable failure() {
        return progress().failure();
    }

    /** Events trained by this loop (since this process started). */
    default long eventsTrained() {
        return progress().eventsTrained();
    }

    /** Events in the model, over all runs that trained it (for split training: by this instance's runs). */
    default long eventsTrainedTotal() {
        return progress().eventsTrainedTotal();
    }

    /** Training steps done so far by this loop. */
    default long steps() {
        return progress().steps();
    }

    /** Events read from the chunk log but not trained yet. */
    default long eventsPending() {
        return progress().eventsPending();
    }

    /**
     * Chunk-log entries this trainer is through: the first offset not trained yet (replicated training), or the
     * sum over its assigned partitions of the positions it committed (split training).
     */
    default long position() {
        return progress().position();
    }
}
