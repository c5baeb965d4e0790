package io.spillway.engine;

import java.util.Objects;

/**
 * Additive change of one parameter tensor: {@code w[indices[i]] += values[i]}.
 *
 * @param tensor parameter name, stable across versions (e.g. {@code layer0.w_rec})
 * @param size number of scalars in the flattened tensor
 * @param indices strictly increasing positions in the flattened tensor
 * @param values the amounts added, one per index
 */
public record TensorDelta(String tensor, int size, int[] indices, float[] values) {
    public TensorDelta {
        Objects.requireNonNull(tensor, "tensor");
        if (indices.length != values.length) {
            throw new IllegalArgumentException("indices and values differ in length");
        }
    }
}
