package io.spillway.app.replay.bench;

import io.spillway.engine.Learner;
import io.spillway.engine.TrainingStep;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sees every {@link TrainingStep} of a learner: which checkpoint schedule each window ran (counted by the
 * window's targets), the device high-water mark and the mean loss and activity of the first steps. A dynamic
 * proxy rather than a delegating class, so the benchmark keeps compiling while the engine's {@link Learner}
 * interface grows (the cell seam). Not thread-safe.
 */
final class StepRecorder {
    /** Steps whose mean loss and activity are kept. */
    static final int RECORDED_STEPS = 64;
    private final Map<String, Long> targetsBySchedule = new LinkedHashMap<>();
    private long peakDeviceBytes;
    /** Mean losses of the first {@link #RECORDED_STEPS} steps that trained targets, for comparing with a twin. */
    private final List<Double> stepLosses = new ArrayList<>();
    /** The same steps' activity (fraction of unit updates that emitted). */
    private final List<Double> stepActivities = new ArrayList<>();

    /** {@code learner} seen through this recorder; closing the view closes the learner. */
    Learner wrap(final Learner learner) {
        return (Learner) Proxy.newProxyInstance(Learner.class.getClassLoader(), new Class<?>[] {Learner.class},
                (proxy, method, args) -> {
                    final Object out;
                    try {
                        out = method.invoke(learner, args);
                    } catch (final InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (out instanceof TrainingStep step) {
                        record(step);
                    }
                    return out;
                });
    }

    private void record(final TrainingStep step) {
        if (step.targets() > 0) {
            targetsBySchedule.merge(step.schedule(), (long) step.targets(), Long::sum);
            if (stepLosses.size() < RECORDED_STEPS) {
                stepLosses.add(step.meanLoss());
                stepActivities.add(step.activity());
            }
        }
        if (step.memory() != null) {
            peakDeviceBytes = Math.max(peakDeviceBytes, step.memory().peakDeviceBytes());
        }
    }

    /** The schedule that trained the most targets ("none" before any), e.g. {@code double(Cr=910,Cl=28)}. */
    String mainSchedule() {
        return targetsBySchedule.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse("none");
    }

    /** Every schedule used with the targets it trained, in first-use order, e.g. {@code bptt: 1200}. */
    List<String> schedules() {
        return targetsBySchedule.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    /** Mean loss (nats) of each of the first {@link #RECORDED_STEPS} steps that trained targets, in order. */
    List<Double> stepLosses() {
        return List.copyOf(stepLosses);
    }

    /** Activity of each of the steps of {@link #stepLosses()}. */
    List<Double> stepActivities() {
        return List.copyOf(stepActivities);
    }

    /** Device high-water mark since the learner started (parameters, optimizer state and windows), bytes. */
    long peakDeviceBytes() {
        return peakDeviceBytes;
    }
}
