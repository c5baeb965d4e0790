package io.spillway.engine;

/**
 * A prequential prediction: made for a key's next step before the learner learned from it. With a prediction
 * mixture ({@link LearnerConfig#mixture()}) the class, probability and loss are the mixture's, what is published;
 * {@code networkLoss} is the network's alone, what it trains on.
 *
 * @param key entity id
 * @param stepInChunk index of the target event in its chunk
 * @param predictedType arg-max class
 * @param probability probability of {@code predictedType}
 * @param actualType the class that actually followed (the target)
 * @param loss cross-entropy of the target, in nats
 * @param networkLoss the network's own cross-entropy of the target, nats; {@code loss} without a mixture
 */
public record Prediction(String key, int stepInChunk, int predictedType, float probability, int actualType, float loss,
                         float networkLoss) {

    /** A prediction of the network alone. */
    public Prediction(final String key, final int stepInChunk, final int predictedType, final float probability,
                      final int actualType, final float loss) {
        this(key, stepInChunk, predictedType, probability, actualType, loss, loss);
    }
}
