/**
 * The CUDA backend, over the FFM API: {@link io.spillway.engine.backend.cuda.CudaBackendProvider} is its only
 * public type, found by {@link io.spillway.engine.backend.Backends} at run time. Everything else (bindings to the
 * driver, NVRTC and cuBLAS, device buffers, kernel launches, the learner's {@code CudaArrayBackend}, the
 * device-resident LIF) lives in {@code internals}. Kernels are CUDA C resources compiled by NVRTC for the device
 * found; GEMMs go through cuBLAS.
 */
package io.spillway.engine.backend.cuda;
