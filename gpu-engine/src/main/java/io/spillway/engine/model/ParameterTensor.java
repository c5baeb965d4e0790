package io.spillway.engine.model;

/**
 * Name, offset and shape of one trainable tensor inside a cell's flat parameter vector (row-major,
 * {@code rows x cols}).
 */
public record ParameterTensor(String name, int offset, int size, int rows, int cols) {
}
