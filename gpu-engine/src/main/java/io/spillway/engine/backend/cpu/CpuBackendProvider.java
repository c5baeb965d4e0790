package io.spillway.engine.backend.cpu;

import io.spillway.engine.backend.ArrayBackend;
import io.spillway.engine.backend.BackendProvider;
import io.spillway.engine.memory.MemoryAccountant;

/**
 * Provides the CPU reference backend as {@code cpu}: always opens, least preferred, so {@code auto} falls back to
 * it. Its matrices are heap copies, so it books nothing with the accountant.
 */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int preference() {
        return 0;
    }

    @Override
    public ArrayBackend open(final MemoryAccountant accountant) {
        return new CpuBackend();
    }
}
