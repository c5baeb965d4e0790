/** FFM bindings to the CUDA driver, NVRTC and cuBLAS; device buffers; typed kernel launches. */
package io.spillway.engine.backend.cuda.internals;
