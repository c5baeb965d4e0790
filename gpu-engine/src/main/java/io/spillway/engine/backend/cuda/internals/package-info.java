/**
 * The CUDA backend's implementation: FFM bindings to the driver, NVRTC and cuBLAS; device buffers; typed kernel
 * launches; the learner's {@code CudaArrayBackend} (dense products on the GPU); the device-resident LIF
 * ({@code CudaLifLayer}, {@code CudaLifSequence}) and the ring-buffer kernels, benchmarked on their own.
 */
package io.spillway.engine.backend.cuda.internals;
