package io.spillway.app.serving;

import io.spillway.app.serving.internals.KeyStates;
import io.spillway.app.serving.internals.ModelTracker;
import io.spillway.engine.Inference;
import io.spillway.engine.PredictionMixture;
import io.spillway.engine.SparseEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Predictions from a model that a trainer keeps publishing: it follows the model (its newest readable snapshot, then
 * the deltas after it, either scale-out mode) on a thread of its own, and scores keys' events with per-key recurrent
 * state carried forward under the newest weights.
 *
 * <p>Versions: each complete version becomes one immutable {@link ModelVersion}, swapped in behind one reference, so
 * every prediction is made by exactly one version's weights and names it. A delta that cannot be read is refused with
 * a reason ({@link #problem()}); the last complete version keeps serving, and every {@code rebaseInterval} the
 * predictor tries a fresh start from the newest snapshot, taken only if it is newer and sound.
 *
 * <p>Scoring runs the trainer's own code ({@link Inference}): for the same weights and the same events from the same
 * state, the network's distribution equals the trainer's bitwise on the CPU backend. What is served is, as what the
 * trainer publishes, the network's distribution mixed with an adaptive context model's ({@link PredictionMixture}):
 * the mixture restored with the snapshot the predictor starts from (the trainer's counts; fresh without a snapshot),
 * learning on from every event scored by {@link #observe}. A model trained with mixture {@code none} serves the
 * network's alone.
 *
 * <p>Per-key state is bounded by {@link PredictorSettings#maxKeys()} and {@link PredictorSettings#idleTimeout()}; an
 * evicted key starts again from the zero state.
 *
 * <p>Threading: thread-safe. {@link #observe} for one key must not run concurrently with itself (one scoring thread
 * per key, as a consumer of a partition is); everything else may be called from any thread.
 */
public final class Predictor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Predictor.class);

    private final PredictorSettings settings;
    private final Inference inference;
    private final KeyStates states;
    /** Null without a mixture; set once, from the first model read, before any scoring can happen. */
    private volatile PredictionMixture mixture;
    private final AtomicReference<ModelVersion> current = new AtomicReference<>();
    private final List<Consumer<ModelVersion>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong swaps = new AtomicLong();
    private final AtomicLong scored = new AtomicLong();
    private final AtomicReference<String> problem = new AtomicReference<>();
    private final AtomicReference<List<ModelTracker.Refusal>> refusals = new AtomicReference<>(List.of());
    private final CountDownLatch first = new CountDownLatch(1);
    private final Thread follower;
    private volatile boolean closing;
    private volatile boolean fixed;

    private Predictor(final PredictorSettings settings) {
        this.settings = settings;
        this.inference = Inference.create(settings.learner());
        this.states = new KeyStates(settings.maxKeys(), settings.idleTimeout(), System::nanoTime);
        this.mixture = PredictionMixture.create(settings.learner()).orElse(null);
        this.follower = new Thread(this::follow, "spillway-serve-follower-" + settings.modelId());
        follower.setDaemon(true);
    }

    /**
     * Starts following; returns at once (see {@link #awaitModel}). Until the first version is read, scoring throws
     * {@link ModelUnavailableException}.
     */
    public static Predictor start(final PredictorSettings settings) {
        final Predictor p = new Predictor(Objects.requireNonNull(settings, "settings"));
        p.follower.start();
        return p;
    }

    /**
     * A predictor of one fixed version, following nothing: for scoring with a model at hand (weights a
     * {@link io.spillway.engine.Learner} or a {@link ModelVersion} gives) and for tests.
     *
     * @param parameters named tensors as {@link io.spillway.engine.Learner#parameters()} gives them
     */
    public static Predictor fixed(final PredictorSettings settings, final long version,
                                  final java.util.Map<String, float[]> parameters) {
        final Predictor p = new Predictor(Objects.requireNonNull(settings, "settings"));
        p.fixed = true;
        p.swap(new ModelTracker.Assembled(version, p.inference.flatten(parameters), -1, ModelTracker.Source.SNAPSHOT));
        return p;
    }

    /**
     * A predictor of {@code learner}'s model as it stands, following nothing: its version, its weights and, where
     * {@code settings} mix, a copy of its prediction mixture (counts and mixing weights), which learns on from the
     * events scored without touching the learner's. Call it on the thread that trains the learner, between steps.
     */
    public static Predictor of(final PredictorSettings settings, final io.spillway.engine.Learner learner) {
        final Predictor p = fixed(settings, learner.version(), learner.parameters());
        if (p.mixture != null) {
            p.mixture = PredictionMixture.of(learner).orElse(null);
        }
        return p;
    }

    /** Calls {@code listener} on the follower thread with every version swapped in from now on. */
    public void addSwapListener(final Consumer<ModelVersion> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Waits until a version is served; returns whether one is. */
    public boolean awaitModel(final Duration timeout) throws InterruptedException {
        return first.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The version served now, if any. */
    public Optional<ModelVersion> model() {
        return Optional.ofNullable(current.get());
    }

    private ModelVersion requireModel() {
        final ModelVersion v = current.get();
        if (v == null) {
            throw new ModelUnavailableException(problem.get() != null ? "no model version yet: " + problem.get()
                    : "no model version yet: model " + settings.modelId() + " is still being read");
        }
        return v;
    }

    /**
     * Scores a key's new events: advances its state by each under the newest version and returns the distribution
     * after each. The key's state is kept for its next events.
     *
     * @param offsets the offset of each event in its topic (-1 when there is none)
     * @throws IllegalArgumentException for an event outside the model's vocabulary or features (the key's state is
     *     then unchanged)
     * @throws ModelUnavailableException before the first version
     */
    public List<NextEvent> observe(final String key, final List<SparseEvent> events, final long[] offsets) {
        Objects.requireNonNull(key, "key");
        if (offsets.length != events.size()) {
            throw new IllegalArgumentException(events.size() + " events but " + offsets.length + " offsets");
        }
        if (events.isEmpty()) {
            return List.of();
        }
        final ModelVersion v = requireModel();
        final KeyStates.Entry entry = states.get(key);
        final Inference.Scored s = inference.score(v.rawWeights(), entry == null ? inference.zeroState()
                : entry.state(), events, true);
        final PredictionMixture m = mixture;
        long context = entry == null ? PredictionMixture.EMPTY : entry.context();
        // what predicted the first event: nothing for a new key; the network's reading of the key's state otherwise
        // (read again rather than kept per key: a distribution per key would cost the vocabulary's size in floats)
        float[] before = m == null || entry == null || entry.labelled() ? null
                : inference.distribution(v.rawWeights(), entry.state()).probabilities();
        final List<NextEvent> out = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            final Inference.Distribution network = s.distributions().get(i);
            Inference.Distribution served = network;
            if (m != null) {
                context = m.learn(context, before, events.get(i).eventType());
                // after an explicitly labelled event the network predicts the label: the counts know nothing of it
                final boolean label = events.get(i).label() != SparseEvent.NO_LABEL;
                served = label ? network : m.distribution(context, network);
                before = label ? null : network.probabilities();
            }
            out.add(nextEvent(key, v, offsets[i], served, settings.topK()));
        }
        states.put(key, s.state(), context, events.getLast().label() != SparseEvent.NO_LABEL,
                offsets[offsets.length - 1], events.size());
        scored.addAndGet(events.size());
        return out;
    }

    /**
     * The next-event distribution of a key's current state, read out under the newest version (the state itself was
     * advanced by the versions current when its events came); empty for a key with no state (never scored, or
     * evicted).
     */
    public Optional<NextEvent> predict(final String key, final int k) {
        final ModelVersion v = requireModel();
        final KeyStates.Entry entry = states.get(key);
        if (entry == null) {
            return Optional.empty();
        }
        final Inference.Distribution network = inference.distribution(v.rawWeights(), entry.state());
        final PredictionMixture m = mixture;
        return Optional.of(nextEvent(key, v, entry.offset(), m == null || entry.labelled() ? network
                : m.distribution(entry.context(), network), k));
    }

    /**
     * What the key's next event would be after {@code events}, starting from its current state (or the zero state
     * when it has none); the key's state is left as it was.
     *
     * @throws IllegalArgumentException for no events or an event outside the model
     */
    public NextEvent predict(final String key, final List<SparseEvent> events, final int k) {
        final ModelVersion v = requireModel();
        final KeyStates.Entry entry = states.get(key);
        final Inference.Scored s = inference.score(v.rawWeights(), entry == null ? inference.zeroState()
                : entry.state(), events, false);
        return nextEvent(key, v, -1, lookAhead(entry == null ? PredictionMixture.EMPTY : entry.context(), events,
                s.distributions().getLast()), k);
    }

    /** As {@link #predict(String, List, int)} with a given model version (e.g. one a swap listener kept). */
    public NextEvent predictWith(final ModelVersion version, final List<SparseEvent> events, final int k) {
        final Inference.Scored s = inference.score(version.rawWeights(), inference.zeroState(), events, false);
        return nextEvent("", version, -1, lookAhead(PredictionMixture.EMPTY, events, s.distributions().getLast()), k);
    }

    /** The distribution served after {@code events} from {@code context}, counting nothing. */
    private Inference.Distribution lookAhead(final long context, final List<SparseEvent> events,
                                             final Inference.Distribution network) {
        final PredictionMixture m = mixture;
        if (m == null || events.getLast().label() != SparseEvent.NO_LABEL) {
            return network;
        }
        long c = context;
        for (final SparseEvent e : events) {
            c = m.advance(c, e.eventType());
        }
        return m.distribution(c, network);
    }

    private static NextEvent nextEvent(final String key, final ModelVersion v, final long offset,
                                       final Inference.Distribution d, final int k) {
        final int[] top = d.top(Math.max(1, k));
        final List<NextEvent.Candidate> candidates = new ArrayList<>(top.length);
        for (final int t : top) {
            candidates.add(new NextEvent.Candidate(t, d.probabilities()[t]));
        }
        return new NextEvent(key, v.version(), offset, d.argMax(), d.probability(), candidates);
    }

    /** The cell's name, e.g. {@code egru}. */
    public String cell() {
        return inference.cellName();
    }

    public int vocabularySize() {
        return inference.vocabularySize();
    }

    public int featureDimension() {
        return inference.featureDimension();
    }

    public PredictorSettings settings() {
        return settings;
    }

    /** Versions swapped in (the first included). */
    public long versionSwaps() {
        return swaps.get();
    }

    /** Events scored by {@link #observe}. */
    public long scoredEvents() {
        return scored.get();
    }

    /** Keys with a state now. */
    public int keys() {
        return states.size();
    }

    /** Keys evicted so far (too many keys, or idle too long). */
    public long evictedKeys() {
        states.expire();
        return states.evicted();
    }

    /** Heap bytes of the per-key states. */
    public long stateBytes() {
        return states.bytes();
    }

    /** (Context, event type) pairs the prediction mixture counts; 0 without one. */
    public int mixturePairs() {
        final PredictionMixture m = mixture;
        return m == null ? 0 : m.pairs();
    }

    /** Heap bytes of the prediction mixture (its count tables); 0 without one. */
    public long mixtureBytes() {
        final PredictionMixture m = mixture;
        return m == null ? 0 : m.bytes();
    }

    /** Why the model is not advancing (a refused delta, the broker unreachable), or null while all is well. */
    public String problem() {
        return problem.get();
    }

    /** Snapshots and deltas refused, each as {@code what: reason}, oldest first. */
    public List<String> refusals() {
        return refusals.get().stream().map(r -> r.what() + ": " + r.reason()).toList();
    }

    /** Whether the follower thread runs. */
    public boolean following() {
        return fixed || follower.isAlive();
    }

    private void follow() {
        ModelTracker tracker = null;
        long backoffMs = 500;
        long nextRebase = Long.MAX_VALUE;
        final Duration poll = Duration.ofMillis(Math.max(5, Math.min(50, settings.settle().toMillis() / 2)));
        try {
            while (!closing) {
                if (tracker == null) {
                    try {
                        tracker = startTracker();
                        if (current.get() == null) {
                            // the first model read: its snapshot's counts, before anything is scored
                            mixture = tracker.mixture().orElse(null);
                        }
                        swap(tracker.initial());
                        refusals.set(tracker.refusals());
                        problem.set(null);
                        backoffMs = 500;
                    } catch (final IOException | RuntimeException e) {
                        problem.set("cannot read model " + settings.modelId() + ": " + e.getMessage());
                        LOG.warn("Serving: {}; retrying in {} ms", problem.get(), backoffMs);
                        Thread.sleep(backoffMs);
                        backoffMs = Math.min(10_000, backoffMs * 2);
                        continue;
                    }
                }
                for (final ModelTracker.Assembled a : tracker.poll(poll)) {
                    swap(a);
                }
                if (tracker.degraded() != null) {
                    if (problem.get() == null) {
                        problem.set(tracker.degraded());
                        refusals.set(tracker.refusals());
                        nextRebase = System.nanoTime() + settings.rebaseInterval().toNanos();
                    }
                    if (System.nanoTime() >= nextRebase) {
                        nextRebase = System.nanoTime() + settings.rebaseInterval().toNanos();
                        tracker = rebase(tracker);
                    }
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final RuntimeException e) {
            problem.set("the follower stopped: " + e);
            LOG.error("Serving: the model follower stopped", e);
        } finally {
            if (tracker != null) {
                tracker.close();
            }
        }
    }

    private ModelTracker startTracker() throws IOException {
        return ModelTracker.start(settings.clientConfig(), settings.registryUrl(), settings.registryOverrides(),
                settings.topics(), settings.modelId(), settings.learner(), settings.scaleOut(), inference,
                settings.settle());
    }

    /** A fresh start from the newest snapshot, kept only if it is newer than what is served and reads cleanly. */
    private ModelTracker rebase(final ModelTracker degraded) {
        final ModelTracker fresh;
        try {
            fresh = startTracker();
        } catch (final IOException | RuntimeException e) {
            LOG.warn("Serving: no fresh start from a snapshot: {}", e.getMessage());
            return degraded;
        }
        final List<ModelTracker.Assembled> caughtUp = new ArrayList<>();
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (fresh.degraded() == null && System.nanoTime() < deadline) {
            caughtUp.addAll(fresh.poll(Duration.ofMillis(50)));
            if (!caughtUp.isEmpty() && caughtUp.getLast().version() > current.get().version()) {
                break;
            }
        }
        final long newest = caughtUp.isEmpty() ? fresh.initial().version() : caughtUp.getLast().version();
        if (fresh.degraded() != null || newest <= current.get().version()) {
            LOG.info("Serving: a fresh start reaches version {} ({}); version {} stays", newest,
                    fresh.degraded() == null ? "not newer" : fresh.degraded(), current.get().version());
            fresh.close();
            return degraded;
        }
        degraded.close();
        swap(caughtUp.isEmpty() ? fresh.initial() : caughtUp.getLast());
        problem.set(null);
        refusals.set(fresh.refusals());
        LOG.info("Serving: started again from a newer snapshot, version {}", newest);
        return fresh;
    }

    private void swap(final ModelTracker.Assembled a) {
        final ModelVersion v = new ModelVersion(settings.modelId(), a.version(), inference.cellName(),
                inference.vocabularySize(), a.publishedAtMs(), System.currentTimeMillis(),
                ModelVersion.Source.valueOf(a.source().name()), a.weights());
        current.set(v);
        swaps.incrementAndGet();
        first.countDown();
        for (final Consumer<ModelVersion> l : listeners) {
            try {
                l.accept(v);
            } catch (final RuntimeException e) {
                LOG.warn("Serving: a swap listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            if (follower.isAlive()) {
                follower.join(10_000);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inference.close();
    }
}
