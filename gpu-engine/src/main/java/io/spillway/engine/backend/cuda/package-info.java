/**
 * The CUDA implementation of the backend SPI, over the FFM API. Kernels are CUDA C resources compiled by
 * NVRTC for the device found; GEMMs go through cuBLAS. Internals (bindings, buffers, launches) live in
 * {@code internals}.
 */
package io.spillway.engine.backend.cuda;
