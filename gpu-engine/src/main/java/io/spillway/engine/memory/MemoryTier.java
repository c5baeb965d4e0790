package io.spillway.engine.memory;

/** Where bytes live: on the compute device ("local") or in slower, larger memory ("remote"). */
public enum MemoryTier {
    /** GPU memory, or on the CPU backend the configured device budget. */
    DEVICE,
    /** Pinned host memory (GPU) or a memory-mapped file / off-heap host memory (CPU). */
    OFF_CHIP
}
