package io.spillway.app.config;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Which values of a setting's type are allowed, with a description for errors and the docs (such as "at least 1").
 *
 * @param <T> the type of the values it checks
 */
public interface Validator<T> {
    boolean accepts(T value);

    /** The allowed values in words, e.g. {@code at least 1}; empty when every value of the type is allowed. */
    String describe();

    /** Every value of the type. */
    static <T> Validator<T> any() {
        return of("", v -> true);
    }

    static <T> Validator<T> of(final String description, final Predicate<? super T> accepts) {
        return new Validator<>() {
            @Override
            public boolean accepts(final T value) {
                return accepts.test(value);
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }

    static Validator<Number> atLeast(final long min) {
        return of("at least " + min, v -> v.doubleValue() >= min);
    }

    static Validator<Number> exactly(final long value) {
        return of(Long.toString(value), v -> v.doubleValue() == value);
    }

    /** From {@code min} to {@code max}, both included. */
    static Validator<Number> between(final long min, final long max) {
        return of("from " + min + " to " + max, v -> v.doubleValue() >= min && v.doubleValue() <= max);
    }

    /** A finite number of at least {@code min}. */
    static Validator<Number> atLeast(final double min) {
        return of("a number of at least " + trim(min), v -> Double.isFinite(v.doubleValue()) && v.doubleValue() >= min);
    }

    /** Above {@code low} and at most {@code high}: {@code (low, high]}. */
    static Validator<Number> aboveAtMost(final double low, final double high) {
        return of("above " + trim(low) + ", at most " + trim(high), v -> v.doubleValue() > low && v.doubleValue() <= high);
    }

    /** From {@code low} to {@code high}, both included: {@code [low, high]}. */
    static Validator<Number> within(final double low, final double high) {
        return of("from " + trim(low) + " to " + trim(high), v -> v.doubleValue() >= low && v.doubleValue() <= high);
    }

    /** Strictly between {@code low} and {@code high}: {@code (low, high)}. */
    static Validator<Number> strictlyBetween(final double low, final double high) {
        return of("above " + trim(low) + " and below " + trim(high),
                v -> v.doubleValue() > low && v.doubleValue() < high);
    }

    /** A positive finite number. */
    static Validator<Number> positive() {
        return of("a positive number", v -> Double.isFinite(v.doubleValue()) && v.doubleValue() > 0);
    }

    static Validator<Duration> notNegative() {
        return of("zero or longer", v -> !v.isNegative());
    }

    static Validator<Duration> positiveDuration() {
        return of("longer than zero", v -> v.isPositive());
    }

    static Validator<String> notBlank() {
        return of("not empty", v -> !v.isBlank());
    }

    /** Either of two validators, e.g. {@code -1 or at least 1}. */
    default Validator<T> or(final Validator<? super T> other) {
        final Validator<T> self = this;
        return of(describe() + " or " + other.describe(), v -> self.accepts(v) || other.accepts(v));
    }

    private static String trim(final double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
