/**
 * The CPU reference backend: plain Java loops for sparse and elementwise work, single-threaded OpenBLAS (via
 * ND4J, confined to {@code Nd4jGemm}) for dense products above a measured size. Deterministic.
 */
package io.spillway.engine.backend.cpu;
