package io.spillway.app.trainer;

/**
 * The trainer thread's work, as the app and its operators see it: {@link TrainerLoop} for replicated training,
 * {@link SplitTrainerLoop} for split training.
 *
 * <p>Threading: {@link #run()} runs on one dedicated thread; the other methods may be used from any thread.
 */
public interface Trainer extends Runnable {

    /** Asks the loop to finish the step under way, leave its state durable and return. */
    void stop();

    /** Why the loop died, if it did. */
    Throwable failure();

    /** Events trained by this loop (since this process started). */
    long eventsTrained();

    /** Events in the model, over all runs that trained it (for split training: by this instance's runs). */
    long eventsTrainedTotal();

    /** Training steps done so far by this loop. */
    long steps();

    /** Events read from the chunk log but not trained yet. */
    long eventsPending();

    /**
     * Chunk-log entries this trainer is through: the first offset not trained yet (replicated training), or the
     * sum over its assigned partitions of the positions it committed (split training).
     */
    long position();
}
