package io.spillway.app.serving.internals;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spillway.app.serving.ModelVersion;
import io.spillway.app.serving.Predictor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The serving meters, in Prometheus names: {@code spillway_serving_model_staleness_seconds} (publication to
 * application of the version served), {@code spillway_serving_model_apply_delay_seconds} (the same per swap, with
 * quantiles), {@code spillway_serving_model_version}, {@code spillway_serving_version_swaps_total},
 * {@code spillway_serving_request_seconds{endpoint,status}}, {@code spillway_serving_scoring_seconds} (per poll of the
 * scored topic), {@code spillway_serving_scored_events_total}, {@code spillway_serving_keys},
 * {@code spillway_serving_state_bytes}, {@code spillway_serving_evicted_keys_total},
 * {@code spillway_serving_rejected_events_total{reason}} and
 * {@code spillway_serving_degraded} (1 while a refused delta holds the model back). Thread-safe.
 */
public final class ServingMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final AtomicReference<ModelVersion> served = new AtomicReference<>();
    private final Timer applyDelay;
    private final Timer scoring;
    private final io.micrometer.core.instrument.Counter unknownCategories;

    public ServingMetrics(final Predictor predictor) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        gc.bindTo(registry);
        Gauge.builder("spillway.serving.model.staleness", served, r -> {
            final ModelVersion v = r.get();
            return v == null ? Double.NaN : v.stalenessSeconds();
        }).baseUnit("seconds").description("Publication to application of the model version served (NaN: not known,"
                + " e.g. a snapshot)").register(registry);
        Gauge.builder("spillway.serving.model.version", served, r -> r.get() == null ? -1 : r.get().version())
                .description("Model version served (-1: none yet)").register(registry);
        FunctionCounter.builder("spillway.serving.version.swaps", predictor, Predictor::versionSwaps)
                .description("Model versions swapped in").register(registry);
        FunctionCounter.builder("spillway.serving.scored.events", predictor, Predictor::scoredEvents)
                .description("Events of the scored topic scored").register(registry);
        FunctionCounter.builder("spillway.serving.evicted.keys", predictor, Predictor::evictedKeys)
                .description("Per-key states evicted (too many keys, or idle too long)").register(registry);
        Gauge.builder("spillway.serving.keys", predictor, Predictor::keys).description("Keys with a state")
                .register(registry);
        Gauge.builder("spillway.serving.state.bytes", predictor, Predictor::stateBytes)
                .description("Heap bytes of per-key states").register(registry);
        Gauge.builder("spillway.serving.mixture.pairs", predictor, Predictor::mixturePairs)
                .description("(Context, event type) pairs the served prediction mixture counts (0: none)")
                .register(registry);
        Gauge.builder("spillway.serving.mixture.bytes", predictor, Predictor::mixtureBytes)
                .description("Heap bytes of the served prediction mixture's count tables").register(registry);
        Gauge.builder("spillway.serving.degraded", predictor, p -> p.problem() == null ? 0 : 1)
                .description("1 while the model cannot advance (a refused delta, an unreachable broker)")
                .register(registry);
        this.applyDelay = Timer.builder("spillway.serving.model.apply.delay")
                .description("Publication to application, per version swapped in").publishPercentiles(0.5, 0.99)
                .register(registry);
        this.scoring = Timer.builder("spillway.serving.scoring")
                .description("Scoring one poll of the scored topic").publishPercentiles(0.5, 0.99).register(registry);
        this.unknownCategories = io.micrometer.core.instrument.Counter.builder("spillway.serving.unknown.categories")
                .description("Scored or posted categories the trainer's published dictionary does not hold (they "
                        + "take the overflow class)").register(registry);
        predictor.model().ifPresent(this::swapped);
        predictor.addSwapListener(this::swapped);
    }

    private void swapped(final ModelVersion v) {
        served.set(v);
        if (v.publishedAtMs() >= 0) {
            applyDelay.record(Duration.ofMillis(Math.max(0, v.appliedAtMs() - v.publishedAtMs())));
        }
    }

    /** Records one request. */
    public void request(final String endpoint, final int status, final long nanos) {
        Timer.builder("spillway.serving.request").description("HTTP requests answered")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status)).publishPercentiles(0.5, 0.99)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts an event of the scored topic not scored, by reason. */
    public void rejected(final String reason) {
        io.micrometer.core.instrument.Counter.builder("spillway.serving.rejected.events")
                .description("Events of the scored topic not scored (invalid for the model), by reason")
                .tag("reason", reason).register(registry).increment();
    }

    /** Records one poll's scoring. */
    /** A scored or posted category the trainer's published dictionary does not hold (it took the overflow class). */
    public void unknownCategory() {
        unknownCategories.increment();
    }

    public void scored(final long nanos, final int events) {
        if (events > 0) {
            scoring.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
