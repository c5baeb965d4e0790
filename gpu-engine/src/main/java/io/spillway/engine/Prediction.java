package io.spillway.engine;

/**
 * A prequential prediction: made for a key's next step before the learner learned from it.
 *
 * @param key entity id
 * @param stepInChunk index of the target event in its chunk
 * @param predictedType arg-max class
 * @param probability model probability of {@code predictedType}
 * @param actualType the class that actually followed (the target)
 * @param loss cross-entropy of the target, in nats
 */
public record Prediction(String key, int stepInChunk, int predictedType, float probability, int actualType, float loss) {
}
