package io.spillway.engine.backend;

/**
 * The compute backend SPI: the few buffer operations the learner and the optimizers need, so the same
 * learner runs on the CPU reference backend or on a GPU. One interface, several implementations chosen
 * at run time with a logged reason for any fallback (the shape of Lucene's and jvector's
 * vectorization providers). Implementations live in sub-packages and are not public API.
 *
 * <p>Ownership: a backend owns the native resources it creates and frees them in {@link #close()}.
 */
public interface Backend extends AutoCloseable {

    /** Short name: {@code cpu}, {@code cuda}. */
    String name();

    /** Human-readable description of the device, for logs and metrics. */
    String deviceDescription();

    @Override
    void close();
}
