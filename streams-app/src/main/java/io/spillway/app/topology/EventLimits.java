package io.spillway.app.topology;

/**
 * What a valid event looks like for the configured model.
 *
 * @param vocabularySize event types and labels must lie in [0, vocabularySize)
 * @param featureDimension feature indices must lie in [0, featureDimension)
 * @param maxFeatures events with more non-zero features are rejected as oversized
 * @param maxEventBytes events whose serialized value is larger are rejected as oversized
 */
public record EventLimits(int vocabularySize, int featureDimension, int maxFeatures, int maxEventBytes) {
    public EventLimits {
        if (vocabularySize <= 0 || featureDimension < 0 || maxFeatures < 0 || maxEventBytes <= 0) {
            throw new IllegalArgumentException("bad event limits: vocabulary " + vocabularySize + ", features "
                    + featureDimension + ", max features " + maxFeatures + ", max bytes " + maxEventBytes);
        }
    }
}
