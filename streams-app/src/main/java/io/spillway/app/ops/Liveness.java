package io.spillway.app.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Whether the app still trains, from the two parts that can die while the process lives on: the Kafka Streams
 * client (it shuts itself down when a stream thread fails) and the trainer thread. Neither restarts by itself, so a
 * dead one must make {@code /health} fail for an orchestrator to restart the process.
 *
 * <p>Live: the client is starting ({@code CREATED}), {@code REBALANCING} or {@code RUNNING}, and the trainer thread is
 * not started yet or alive. Dead: the client is in {@code PENDING_ERROR} or {@code ERROR}; or it is in
 * {@code PENDING_SHUTDOWN} or {@code NOT_RUNNING}, or the trainer thread has ended, while no stop was requested (a
 * clean stop passes through those states on its way out and is not a failure).
 *
 * <p>Threading: {@link #check()} may be called from any thread; it only reads.
 */
public final class Liveness {
    private final Supplier<KafkaStreams.State> streamsState;
    private final Thread trainerThread;
    private final Supplier<Throwable> trainerFailure;
    private final BooleanSupplier stopRequested;

    /**
     * @param streamsState the Kafka Streams client's state
     * @param trainerThread the thread running the trainer (it may not be started yet)
     * @param trainerFailure why the trainer ended, or null
     * @param stopRequested whether the app was asked to stop
     */
    public Liveness(final Supplier<KafkaStreams.State> streamsState, final Thread trainerThread,
                    final Supplier<Throwable> trainerFailure, final BooleanSupplier stopRequested) {
        this.streamsState = Objects.requireNonNull(streamsState, "streamsState");
        this.trainerThread = Objects.requireNonNull(trainerThread, "trainerThread");
        this.trainerFailure = Objects.requireNonNull(trainerFailure, "trainerFailure");
        this.stopRequested = Objects.requireNonNull(stopRequested, "stopRequested");
    }

    /** The app's health now. */
    public Health check() {
        final boolean stopping = stopRequested.getAsBoolean();
        final KafkaStreams.State state = streamsState.get();
        final Thread.State trainer = trainerThread.getState();
        final Map<String, String> components = new LinkedHashMap<>();
        components.put("streams", state.name());
        components.put("trainer", trainerName(trainer));
        if (stopping) {
            components.put("stop", "requested");
        }
        final List<String> problems = new ArrayList<>();
        if (!streamsLive(state, stopping)) {
            problems.add("the Kafka Streams client is " + state + (stopping ? "" : " and no stop was requested")
                    + ": no input is consumed");
        }
        if (trainer == Thread.State.TERMINATED && !stopping) {
            final Throwable failure = trainerFailure.get();
            problems.add("the trainer thread has ended" + (failure == null ? "" : " (" + failure + ")")
                    + ": nothing is trained");
        }
        return new Health(problems.isEmpty(), components, problems);
    }

    /** Whether the Kafka Streams client counts as live in {@code state}. */
    static boolean streamsLive(final KafkaStreams.State state, final boolean stopping) {
        return switch (state) {
            case CREATED, REBALANCING, RUNNING -> true;
            case PENDING_SHUTDOWN, NOT_RUNNING -> stopping;
            case PENDING_ERROR, ERROR -> false;
        };
    }

    /** 1 while the Kafka Streams client is rebalancing or running, else 0 (for the gauge). */
    public double streamsRunning() {
        return streamsState.get().isRunningOrRebalancing() ? 1 : 0;
    }

    /** 1 while the trainer thread runs, else 0 (for the gauge). */
    public double trainerAlive() {
        return trainerThread.isAlive() ? 1 : 0;
    }

    /** The Kafka Streams client's state now. */
    public KafkaStreams.State streamsState() {
        return streamsState.get();
    }

    private static String trainerName(final Thread.State state) {
        return switch (state) {
            case NEW -> "starting";
            case TERMINATED -> "ended";
            default -> "alive";
        };
    }
}
