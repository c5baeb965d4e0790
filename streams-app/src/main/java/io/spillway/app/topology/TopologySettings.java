package io.spillway.app.topology;

import java.time.Duration;
import java.util.Objects;

/**
 * How the topology validates and assembles events. Immutable.
 *
 * @param chunkLength events per chunk T: a key's open chunk is handed to the trainer when it holds this many
 * @param maxWait an open chunk older than this (wall-clock, since its first event) is handed over even if shorter
 * @param vocabularySize event types must lie in {@code [0, vocabularySize)}
 * @param featureDimension feature indices must lie in {@code [0, featureDimension)}
 * @param maxFeatureMagnitude feature values must be finite with an absolute value at most this
 */
public record TopologySettings(int chunkLength, Duration maxWait, int vocabularySize, int featureDimension,
                               float maxFeatureMagnitude) {

    public TopologySettings {
        if (chunkLength <= 0) {
            throw new IllegalArgumentException("chunk length must be > 0: " + chunkLength);
        }
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("max wait must be positive: " + maxWait);
        }
        if (vocabularySize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be > 0: " + vocabularySize);
        }
        if (featureDimension < 0) {
            throw new IllegalArgumentException("feature dimension must be >= 0: " + featureDimension);
        }
        if (!(maxFeatureMagnitude > 0)) {
            throw new IllegalArgumentException("max feature magnitude must be > 0: " + maxFeatureMagnitude);
        }
    }
}
