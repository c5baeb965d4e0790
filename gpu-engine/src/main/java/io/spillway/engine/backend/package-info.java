/**
 * The compute backend SPI: {@link io.spillway.engine.backend.Backend} (the root every backend implements),
 * {@link io.spillway.engine.backend.ArrayBackend} (operations on heap arrays, what the spiking learner's
 * model runs on) and {@link io.spillway.engine.backend.Backends}, which picks one at run time with a logged
 * reason for any fallback. Implementations: {@code cpu} and {@code cuda} sub-packages.
 */
package io.spillway.engine.backend;
